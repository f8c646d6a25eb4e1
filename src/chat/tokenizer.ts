import { Tokenizer } from '@huggingface/tokenizers';
import { QwenError } from '../loader/errors.ts';
import { readJsonFile, type FileSource } from '../loader/file-source.ts';

/** tokenizer.json or tokenizer_config.json is missing, or lacks what a chat model needs. */
export class TokenizerError extends QwenError {
  constructor(problem: string) {
    super('bad-tokenizer', `${problem}. The repo's tokenizer files are missing or not a Qwen chat tokenizer.`);
  }
}

/** The fields of tokenizer_config.json this code reads; the rest passes through to the tokenizer. */
export interface TokenizerConfig {
  bos_token?: TokenSpec;
  eos_token?: TokenSpec;
  pad_token?: TokenSpec;
  unk_token?: TokenSpec;
  chat_template?: string | { name: string; template: string }[];
  [key: string]: unknown;
}

/** Token fields are written either as the string or as an AddedToken object. */
type TokenSpec = string | { content: string } | null;

export function tokenContent(spec: TokenSpec | undefined): string | null {
  if (spec == null) return null;
  return typeof spec === 'string' ? spec : spec.content;
}

export interface SpecialTokenIds {
  imStart: number;
  imEnd: number;
  endOfText: number;
  /** `<think>` / `</think>`: single added tokens in Qwen3.x vocabularies, absent in older ones. */
  thinkStart?: number;
  thinkEnd?: number;
  /** tokenizer_config.json's eos_token (`<|im_end|>` for Qwen chat models). */
  eos?: number;
}

export interface DecodeOptions {
  /** Drop tokens flagged special (`<|im_end|>`…); `<think>` and tool tags are not special and stay. */
  skipSpecialTokens?: boolean;
}

export class ChatTokenizer {
  readonly special: SpecialTokenIds;

  constructor(
    private readonly tokenizer: Tokenizer,
    readonly config: TokenizerConfig,
  ) {
    const required = (token: string): number => {
      const id = this.tokenId(token);
      if (id === undefined) throw new TokenizerError(`tokenizer.json has no ${token} token`);
      return id;
    };
    const eosToken = tokenContent(config.eos_token);
    this.special = {
      imStart: required('<|im_start|>'),
      imEnd: required('<|im_end|>'),
      endOfText: required('<|endoftext|>'),
      thinkStart: this.addedTokenId('<think>'),
      thinkEnd: this.addedTokenId('</think>'),
      eos: eosToken === null ? undefined : this.tokenId(eosToken),
    };
  }

  /** Token ids of `text`; special tokens written in it (`<|im_start|>`) map to their ids, nothing is added. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Ids with no token (the embedding's padding rows) decode to nothing. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode(ids as number[], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  /** Only an added token counts: a vocabulary where "<think>" is an ordinary BPE piece cannot mark a block by id. */
  private addedTokenId(token: string): number | undefined {
    const id = this.tokenId(token);
    return id !== undefined && this.tokenizer.get_added_tokens_decoder().has(id) ? id : undefined;
  }
}

/** Builds the tokenizer from the repo's tokenizer.json and tokenizer_config.json, read through `source`. */
export async function loadTokenizer(source: FileSource): Promise<ChatTokenizer> {
  if ((await source.size('tokenizer.json')) === null) throw new TokenizerError(`tokenizer.json not found in ${source.description}`);
  const json = await readJsonFile(source, 'tokenizer.json');
  // Older repos ship no tokenizer_config.json; the tokenizer itself works without it.
  const config = (await source.size('tokenizer_config.json')) === null ? {} : await readJsonFile(source, 'tokenizer_config.json');
  if (!isObject(json) || !isObject(config)) throw new TokenizerError('tokenizer.json or tokenizer_config.json is not a JSON object');
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
  } catch (e) {
    throw new TokenizerError(`tokenizer.json cannot be used (${(e as Error).message})`);
  }
  return new ChatTokenizer(tokenizer, config as TokenizerConfig);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
