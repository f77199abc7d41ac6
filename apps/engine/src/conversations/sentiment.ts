/**
 * Sentiment of a customer's message: the VADER compound score in [-1, 1] (`vader-sentiment`, the JavaScript port of
 * VADER). Chosen because it is rule-based (a lexicon and grammar rules, no model to download or host), tuned for short
 * social and chat text like support replies (negation, "but", intensifiers, emoticons, capitals), deterministic and
 * fast (microseconds per message). Scored once, when the reply is recorded, and stored on `CustomerReplied.sentiment`,
 * so replays and backtests read the same number. The usual VADER bands: >= 0.05 positive, <= -0.05 negative.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vader = require('vader-sentiment') as {
  SentimentIntensityAnalyzer: { polarity_scores(text: string): { neg: number; neu: number; pos: number; compound: number } };
};

/** VADER's compound score of `text`, rounded to 4 decimals, in [-1, 1] (0 for text with no sentiment words). */
export function scoreSentiment(text: string): number {
  const { compound } = vader.SentimentIntensityAnalyzer.polarity_scores(text);
  return Number.isFinite(compound) ? Math.round(compound * 10_000) / 10_000 : 0;
}

/** The VADER bands: `positive` from 0.05, `negative` to -0.05, else `neutral`. */
export function sentimentLabel(score: number): 'positive' | 'negative' | 'neutral' {
  return score >= 0.05 ? 'positive' : score <= -0.05 ? 'negative' : 'neutral';
}
