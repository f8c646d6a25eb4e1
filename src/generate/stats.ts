/** Prefill and decode throughput of the last generation, as users compare engines by. */
export class GenerationStats {
  prefillTokens = 0;
  prefillMs = 0;
  decodeTokens = 0;
  decodeMs = 0;

  reset(): void {
    this.prefillTokens = this.prefillMs = this.decodeTokens = this.decodeMs = 0;
  }

  recordPrefill(tokens: number, ms: number): void {
    this.prefillTokens += tokens;
    this.prefillMs += ms;
  }

  recordDecode(ms: number): void {
    this.decodeTokens++;
    this.decodeMs += ms;
  }

  /** Time to first token: the prefill, which ends with the first sample. */
  get timeToFirstTokenMs(): number {
    return this.prefillMs;
  }

  get prefillTokensPerSecond(): number {
    return this.prefillMs > 0 ? (this.prefillTokens * 1000) / this.prefillMs : 0;
  }

  get decodeTokensPerSecond(): number {
    return this.decodeMs > 0 ? (this.decodeTokens * 1000) / this.decodeMs : 0;
  }
}
