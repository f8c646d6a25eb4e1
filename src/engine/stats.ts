import type { GenerationStats } from '../generate/stats.ts';
import type { GenerationStatsSnapshot } from '../api.ts';

export function snapshot(stats: GenerationStats): GenerationStatsSnapshot {
  return {
    promptTokens: stats.prefillTokens,
    generatedTokens: stats.decodeTokens + (stats.prefillTokens > 0 ? 1 : 0),
    prefillTokensPerSecond: stats.prefillTokensPerSecond,
    decodeTokensPerSecond: stats.decodeTokensPerSecond,
    timeToFirstTokenMs: stats.timeToFirstTokenMs,
  };
}
