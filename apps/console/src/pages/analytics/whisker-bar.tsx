/** The props recharts gives a Bar's custom shape (the ones this shape reads). */
interface BarShapeProps {
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  fill?: string;
  payload?: Record<string, unknown>;
  /** The bar's column of the plotting area: its top and height are the axis from `max` down to 0. */
  background?: { y: number; height: number };
}

/**
 * A bar with its 95% interval drawn as a whisker: `intervalKey` names the payload's `[lower, upper]` (in the axis'
 * units), placed on an axis from 0 to `max` (the YAxis domain, fixed so the scale is known here).
 */
export function whiskerBar(intervalKey: string, max: number) {
  return function WhiskerBar(props: unknown) {
    const { x = 0, y = 0, width = 0, height = 0, fill, payload, background } = props as BarShapeProps;
    const ci = payload?.[intervalKey] as [number, number] | null | undefined;
    const at = (v: number) => (background ? background.y + background.height - (Math.min(v, max) / max) * background.height : 0);
    const mid = x + width / 2;
    const cap = Math.min(8, width / 3);
    return (
      <g>
        {height > 0 ? <rect x={x} y={y} width={width} height={height} fill={fill} /> : null}
        {ci && background ? (
          <g stroke="#1b1f24" strokeWidth={1.5}>
            <line x1={mid} x2={mid} y1={at(ci[0])} y2={at(ci[1])} />
            <line x1={mid - cap} x2={mid + cap} y1={at(ci[0])} y2={at(ci[0])} />
            <line x1={mid - cap} x2={mid + cap} y1={at(ci[1])} y2={at(ci[1])} />
          </g>
        ) : null}
      </g>
    );
  };
}
