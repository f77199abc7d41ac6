/**
 * The sentiment scorer's verdicts on a small labelled set of realistic support replies (written for this test, labelled
 * by hand before scoring). VADER gets 20 of these 22 right; the two misses are printed and pinned, so a change of the
 * library or of the bands shows up here.
 */
import { scoreSentiment, sentimentLabel } from './sentiment';

type Label = 'positive' | 'negative' | 'neutral';
const LABELLED: Array<[string, Label]> = [
  ['Thanks, that fixed it!', 'positive'],
  ['Great, works perfectly now. Thank you so much', 'positive'],
  ['Awesome support, really appreciate the quick help', 'positive'],
  ['Love the new dashboard, nice work', 'positive'],
  ['Perfect, exactly what I needed :)', 'positive'],
  ['That makes sense, thanks for explaining', 'positive'],
  ['Super helpful, you saved my day', 'positive'],
  ['This is still broken and I am really frustrated', 'negative'],
  ['Terrible experience, nobody answers my emails', 'negative'],
  ['I want to cancel my subscription, this is useless', 'negative'],
  ['The export keeps failing and we lost data. Unacceptable.', 'negative'],
  ['Worst update ever, everything is slow now', 'negative'],
  ['I am very disappointed with the service', 'negative'],
  ['Why is this so hard? I hate this new layout', 'negative'],
  ["Not great, the sync didn't work again", 'negative'],
  ['How do I export my invoices?', 'neutral'],
  ['Can you send me the link to the API docs?', 'neutral'],
  ['My account id is 4821, the plan is Team', 'neutral'],
  ['I will check with my manager on Monday', 'neutral'],
  ['Where can I change the billing address?', 'neutral'],
  ['We use the Salesforce integration', 'neutral'],
  ['ok', 'neutral'],
];

describe('scoreSentiment (VADER compound score)', () => {
  it('given 22 labelled support replies, when scored, then at least 90% land in their band (misses printed)', () => {
    const verdicts = LABELLED.map(([text, label]) => ({
      text,
      label,
      score: scoreSentiment(text),
      got: sentimentLabel(scoreSentiment(text)),
    }));
    const misses = verdicts.filter((v) => v.got !== v.label);
    console.log(
      `sentiment: ${verdicts.length - misses.length}/${verdicts.length} right; misses:\n` +
        misses.map((m) => `  ${m.score.toFixed(4)} labelled ${m.label}, scored ${m.got}: ${JSON.stringify(m.text)}`).join('\n'),
    );
    expect((verdicts.length - misses.length) / verdicts.length).toBeGreaterThanOrEqual(0.9);
    // the known misses: VADER scores "Not great, ..." positive (it boosts "great" and the rest has no lexicon word), "ok" mildly positive
    expect(misses.map((m) => m.text).sort()).toEqual(["Not great, the sync didn't work again", 'ok']);
  });

  it('is deterministic, in [-1, 1], and 0 for text without sentiment words', () => {
    for (const [text] of LABELLED) {
      const s = scoreSentiment(text);
      expect(s).toBe(scoreSentiment(text));
      expect(s).toBeGreaterThanOrEqual(-1);
      expect(s).toBeLessThanOrEqual(1);
    }
    expect(scoreSentiment('Where can I change the billing address?')).toBe(0);
    expect(scoreSentiment('This is broken and I am furious')).toBeLessThan(-0.5);
  });
});
