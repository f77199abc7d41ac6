import { groupConversion, katzRatio, liftFigures, newcombeDifference, wilsonInterval } from './trigger-lift';

const four = (i: { lower: number; upper: number } | null) => i && [+i.lower.toFixed(4), +i.upper.toFixed(4)];

describe('lift statistics', () => {
  it("Wilson's score interval matches Newcombe (1998, Stat Med 17:857, Table I, method 3)", () => {
    expect(four(wilsonInterval(81, 263))).toEqual([0.2553, 0.3662]);
    expect(four(wilsonInterval(15, 148))).toEqual([0.0624, 0.1605]);
    expect(four(wilsonInterval(0, 20))).toEqual([0, 0.1611]);
    expect(four(wilsonInterval(1, 29))).toEqual([0.0061, 0.1718]);
    expect(wilsonInterval(0, 0)).toBeNull();
  });

  it("Newcombe's hybrid score interval for a difference matches Newcombe (1998, Stat Med 17:873, Table II, method 10)", () => {
    expect(four(newcombeDifference(56, 70, 48, 80))).toEqual([0.0524, 0.3339]);
    expect(four(newcombeDifference(9, 10, 3, 10))).toEqual([0.1705, 0.809]);
    expect(four(newcombeDifference(6, 7, 2, 7))).toEqual([0.0582, 0.8062]);
    expect(four(newcombeDifference(5, 56, 0, 29))).toEqual([-0.0381, 0.1926]);
    expect(four(newcombeDifference(0, 10, 0, 20))).toEqual([-0.1611, 0.2775]);
    expect(four(newcombeDifference(10, 10, 0, 20))).toEqual([0.6791, 1]);
    expect(four(newcombeDifference(10, 10, 0, 10))).toEqual([0.6075, 1]);
  });

  it('Katz log interval for the ratio: exp(ln RR ± z·se), se = √(1/x₁ − 1/n₁ + 1/x₂ − 1/n₂)', () => {
    // 56/70 vs 48/80: RR = 4/3, se = √(1/56 − 1/70 + 1/48 − 1/80) = 0.109109
    const r = katzRatio(56, 70, 48, 80)!;
    expect(r.estimate).toBeCloseTo(4 / 3, 10);
    expect(r.lower).toBeCloseTo(1.0766, 4);
    expect(r.upper).toBeCloseTo(1.6512, 4);
    expect(katzRatio(0, 10, 3, 10)).toBeNull();
    expect(katzRatio(3, 10, 0, 10)).toBeNull();
  });

  it('lift = (p_t − p_h) / p_h with its interval; null without holdout conversions', () => {
    expect(liftFigures(56, 70, 48, 80)).toMatchObject({
      lift: 0.3333,
      liftCi95: { lower: 0.0766, upper: 0.6512 },
      difference: 0.2,
      differenceCi95: { lower: 0.0524, upper: 0.3339 },
    });
    expect(liftFigures(5, 56, 0, 29)).toMatchObject({ lift: null, liftCi95: null, differenceCi95: { lower: -0.0381, upper: 0.1926 } });
    expect(groupConversion(81, 263)).toEqual({ runs: 263, converted: 81, conversionRate: 0.308, ci95: { lower: 0.2553, upper: 0.3662 } });
    expect(groupConversion(0, 0)).toEqual({ runs: 0, converted: 0, conversionRate: null, ci95: null });
  });
});
