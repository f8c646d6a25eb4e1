// What the engine must answer, computed independently of it: the fixture's own chat template and
// tokenizer, then greedy decoding on the plain-TypeScript CPU reference model (src/reference).
import type { ChatMessage } from '../src/api.ts';
import { loadChatTemplate } from '../src/chat/chat-template.ts';
import { loadGenerationConfig } from '../src/chat/generation-config.ts';
import { ThinkingSplitter } from '../src/chat/thinking.ts';
import { loadTokenizer } from '../src/chat/tokenizer.ts';
import { promptEndsInThinking } from '../src/chat/chat-template.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';
import { loadFixture } from '../test/helpers/fixtures.ts';

export async function greedyAnswer(fixture: string, dir: string, messages: ChatMessage[], options: { maxTokens: number; enableThinking?: boolean }) {
  const source = new NodeDirSource(dir);
  const tokenizer = await loadTokenizer(source);
  const template = await loadChatTemplate(source, tokenizer.config);
  const prompt = template.render(messages, { enableThinking: options.enableThinking });
  const stop = new Set((await loadGenerationConfig(source, [tokenizer.special.eos])).eosTokenIds);
  const { config, create } = await loadFixture(fixture);
  const model = create();
  const ids: number[] = [];
  let logits = model.forward(Int32Array.from(tokenizer.encode(prompt))).logits;
  while (ids.length < options.maxTokens) {
    const row = logits.subarray(logits.length - config.vocabSize);
    let next = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[next]) next = i;
    if (stop.has(next)) break;
    ids.push(next);
    logits = model.forward(Int32Array.of(next)).logits;
  }
  const splitter = new ThinkingSplitter(tokenizer, { startInThinking: promptEndsInThinking(prompt), thinkStartId: tokenizer.special.thinkStart, thinkEndId: tokenizer.special.thinkEnd });
  const chunks = [...ids.flatMap((id) => splitter.push(id)), ...splitter.flush()];
  const text = (channel: string) => chunks.filter((c) => c.channel === channel).map((c) => c.text).join('');
  return { ids, answer: text('answer'), thinking: text('thinking') };
}
