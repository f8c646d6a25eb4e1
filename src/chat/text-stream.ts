import type { DecodeOptions } from './tokenizer.ts';

/** What the stream needs of a tokenizer: ChatTokenizer fits. */
export interface Detokenizer {
  decode(ids: readonly number[], options?: DecodeOptions): string;
}

/**
 * Incremental detokenizer: text appears as soon as it is complete. A byte-level token can hold part
 * of a UTF-8 character, which decodes to U+FFFD until the rest arrives, so text ending in U+FFFD is
 * held back. The concatenated output equals `decode(allIds)`.
 *
 * Each step decodes a short window of ids and emits what it adds over the ids already shown. The left
 * context (the ids shown last) keeps tokenizers whose decoding of a token depends on what precedes it
 * (a SentencePiece leading-space marker) consistent with decoding everything at once.
 */
export class TextStream {
  private ids: number[] = [];
  /** ids[prefix, shown) were emitted already and serve as left context. */
  private prefix = 0;
  private shown = 0;

  constructor(
    private readonly tokenizer: Detokenizer,
    private readonly options: DecodeOptions = {},
  ) {}

  /** Adds one token; returns the text it completes ('' while a character is still incomplete). */
  push(tokenId: number): string {
    this.ids.push(tokenId);
    const context = this.decode(this.prefix, this.shown);
    const text = this.decode(this.prefix, this.ids.length);
    if (text.length <= context.length || text.endsWith('\uFFFD')) return '';
    this.prefix = this.shown;
    this.shown = this.ids.length;
    this.compact();
    return text.slice(context.length);
  }

  /** The rest, incomplete characters included (as U+FFFD, as a full decode shows them), then resets. */
  flush(): string {
    const context = this.decode(this.prefix, this.shown);
    const text = this.decode(this.prefix, this.ids.length);
    this.ids = [];
    this.prefix = this.shown = 0;
    return text.slice(context.length);
  }

  private decode(start: number, end: number): string {
    return this.tokenizer.decode(this.ids.slice(start, end), this.options);
  }

  /** Ids before the context window are never decoded again. */
  private compact(): void {
    this.ids = this.ids.slice(this.prefix);
    this.shown -= this.prefix;
    this.prefix = 0;
  }
}
