import type { ChatChunk } from '../api.ts';
import { TextStream, type Detokenizer } from './text-stream.ts';

const OPEN = '<think>';
const CLOSE = '</think>';

export interface ThinkingSplitterOptions {
  /** The prompt ended inside an open `<think>` (see promptEndsInThinking): output starts as reasoning. */
  startInThinking: boolean;
  /** Ids of `<think>` / `</think>` when they are single added tokens (ChatTokenizer.special). */
  thinkStartId?: number;
  thinkEndId?: number;
  /** Default true: stray special tokens (`<|im_start|>`…) are not shown. */
  skipSpecialTokens?: boolean;
}

/**
 * Routes generated tokens to the thinking or the answer channel. The tags themselves never reach
 * the caller, nor the newlines the chat template puts around them (`<think>\n…\n</think>\n\n`).
 *
 * A tag with a known id is recognised by that id alone, so an answer that merely mentions "<think>"
 * stays text; a tag without one is searched for in the decoded text, also across chunk boundaries.
 */
export class ThinkingSplitter {
  private readonly stream: TextStream;
  private readonly textTags: string[];
  private channel: ChatChunk['channel'];
  /** Leading newlines of a new segment are dropped. */
  private segmentStart = true;
  /** Trailing newlines of reasoning wait: dropped if `</think>` follows, shown if more reasoning does. */
  private heldNewlines = '';
  /** Text that may be the start of a tag searched for in text. */
  private tail = '';
  private pendingIds: number[] = [];
  private out: ChatChunk[] = [];

  constructor(
    tokenizer: Detokenizer,
    private readonly options: ThinkingSplitterOptions,
  ) {
    this.stream = new TextStream(tokenizer, { skipSpecialTokens: options.skipSpecialTokens ?? true });
    this.channel = options.startInThinking ? 'thinking' : 'answer';
    this.textTags = [
      ...(options.thinkStartId === undefined ? [OPEN] : []),
      ...(options.thinkEndId === undefined ? [CLOSE] : []),
    ];
  }

  /** One generated token; returns the chunks it completes (often none or one). */
  push(tokenId: number): ChatChunk[] {
    if (tokenId === this.options.thinkStartId || tokenId === this.options.thinkEndId) {
      // Bytes held back before the tag are final now: a full decode shows them before it too.
      this.route(this.stream.flush());
      this.switchTo(tokenId === this.options.thinkStartId ? 'thinking' : 'answer');
    } else {
      this.pendingIds.push(tokenId);
      this.route(this.stream.push(tokenId));
    }
    return this.take();
  }

  /** End of generation: what is still held back, minus the newlines trimmed at the end of reasoning. */
  flush(): ChatChunk[] {
    this.route(this.stream.flush());
    this.emit(this.tail);
    this.tail = '';
    this.heldNewlines = '';
    this.pendingIds = [];
    return this.take();
  }

  /** Splits decoded text at tags searched for in text; a possible partial tag at the end waits. */
  private route(text: string): void {
    if (this.textTags.length === 0) return this.emit(text);
    let rest = this.tail + text;
    for (;;) {
      const found = this.findTag(rest);
      if (!found) break;
      this.emit(rest.slice(0, found.index));
      this.switchTo(found.tag === OPEN ? 'thinking' : 'answer');
      rest = rest.slice(found.index + found.tag.length);
    }
    const keep = this.partialTagLength(rest);
    this.emit(rest.slice(0, rest.length - keep));
    this.tail = rest.slice(rest.length - keep);
  }

  private findTag(text: string): { index: number; tag: string } | null {
    let best: { index: number; tag: string } | null = null;
    for (const tag of this.textTags) {
      const index = text.indexOf(tag);
      if (index >= 0 && (!best || index < best.index)) best = { index, tag };
    }
    return best;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of a tag. */
  private partialTagLength(text: string): number {
    for (let n = Math.min(text.length, CLOSE.length - 1); n > 0; n--) {
      const suffix = text.slice(text.length - n);
      if (this.textTags.some((tag) => tag.startsWith(suffix))) return n;
    }
    return 0;
  }

  private switchTo(channel: ChatChunk['channel']): void {
    this.channel = channel;
    this.segmentStart = true;
    this.heldNewlines = '';
  }

  private emit(text: string): void {
    if (this.segmentStart) {
      text = text.replace(/^\n+/, '');
      if (text === '') return;
      this.segmentStart = false;
    }
    if (this.channel === 'thinking') {
      const full = this.heldNewlines + text;
      const body = full.replace(/\n+$/, '');
      this.heldNewlines = full.slice(body.length);
      text = body;
    }
    if (text === '') return;
    const last = this.out[this.out.length - 1];
    if (last && last.channel === this.channel) last.text += text;
    else this.out.push({ channel: this.channel, text, tokenIds: [] });
    this.out[this.out.length - 1].tokenIds.push(...this.pendingIds);
    this.pendingIds = [];
  }

  private take(): ChatChunk[] {
    const chunks = this.out;
    this.out = [];
    return chunks;
  }
}
