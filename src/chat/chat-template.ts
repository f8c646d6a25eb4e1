import { Template } from '@huggingface/jinja';
import { readJsonFile, readWholeFile, type FileSource } from '../loader/file-source.ts';
import { TokenizerError, tokenContent, type TokenizerConfig } from './tokenizer.ts';

/**
 * A message as the template sees it: OpenAI-shaped (the engine's ChatMessage fits), plus the fields
 * the Qwen templates read for tool use. Image and video parts only become placeholders here.
 */
export interface TemplateMessage {
  role: string;
  content: string | readonly TemplateContentPart[] | null;
  reasoning_content?: string;
  tool_calls?: readonly unknown[];
}

export type TemplateContentPart = { type: string; [key: string]: unknown };

export interface RenderOptions {
  /** Default true: end with the assistant header so the model answers next. */
  addGenerationPrompt?: boolean;
  /** Passed to the template only when set, so an unset value keeps the template's own default. */
  enableThinking?: boolean;
  /** Function schemas (OpenAI `tools` shape), rendered into the system turn. */
  tools?: readonly unknown[];
}

export class ChatTemplate {
  private readonly template: Template;
  private thinkingDefault: boolean | undefined;

  /** `specialTokens` become template variables (bos_token, eos_token…), as transformers passes them. */
  constructor(
    readonly source: string,
    private readonly specialTokens: Record<string, string | null> = {},
  ) {
    this.template = new Template(source);
  }

  render(messages: readonly TemplateMessage[], options: RenderOptions = {}): string {
    const vars: Record<string, unknown> = {
      ...this.specialTokens,
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? true,
    };
    if (options.enableThinking !== undefined) vars.enable_thinking = options.enableThinking;
    if (options.tools !== undefined) vars.tools = options.tools;
    return this.template.render(vars);
  }

  /**
   * Whether the model thinks when enable_thinking is not given: the Qwen3.5 templates differ here by
   * model size, so it is read off a rendered probe rather than assumed from the model name.
   */
  thinkingByDefault(): boolean {
    this.thinkingDefault ??= promptEndsInThinking(this.render([{ role: 'user', content: 'Hi' }]));
    return this.thinkingDefault;
  }
}

/**
 * Whether a prompt leaves a `<think>` block open (thinking mode), so generated text starts as
 * reasoning; an empty closed block (`<think>\n\n</think>\n\n`) means the answer comes directly.
 */
export function promptEndsInThinking(prompt: string): boolean {
  const open = prompt.lastIndexOf('<think>');
  return open >= 0 && open > prompt.lastIndexOf('</think>');
}

/**
 * The repo's chat template, looked up as transformers does: chat_template.jinja, then
 * chat_template.json, then tokenizer_config.json (a string, or named templates of which 'default' is used).
 */
export async function loadChatTemplate(source: FileSource, config?: TokenizerConfig): Promise<ChatTemplate> {
  const tokenizerConfig = config ?? ((await exists(source, 'tokenizer_config.json')) ? ((await readJsonFile(source, 'tokenizer_config.json')) as TokenizerConfig) : {});
  const specialTokens = {
    bos_token: tokenContent(tokenizerConfig.bos_token),
    eos_token: tokenContent(tokenizerConfig.eos_token),
    pad_token: tokenContent(tokenizerConfig.pad_token),
    unk_token: tokenContent(tokenizerConfig.unk_token),
  };
  return new ChatTemplate(await templateText(source, tokenizerConfig), specialTokens);
}

async function templateText(source: FileSource, config: TokenizerConfig): Promise<string> {
  if (await exists(source, 'chat_template.jinja')) return new TextDecoder().decode(await readWholeFile(source, 'chat_template.jinja'));
  if (await exists(source, 'chat_template.json')) {
    const json = (await readJsonFile(source, 'chat_template.json')) as { chat_template?: unknown };
    if (typeof json.chat_template === 'string') return json.chat_template;
  }
  const inline = config.chat_template;
  if (typeof inline === 'string') return inline;
  if (Array.isArray(inline)) {
    const named = inline.find((t) => t.name === 'default');
    if (named) return named.template;
  }
  throw new TokenizerError(`no chat template in ${source.description} (chat_template.jinja, chat_template.json or tokenizer_config.json)`);
}

async function exists(source: FileSource, path: string): Promise<boolean> {
  return (await source.size(path)) !== null;
}
