import { h, logoMark } from './dom.ts';

const SUGGESTIONS: [string, string][] = [
  ['Explain WebGPU', 'in two short paragraphs, for a web developer'],
  ['Write a haiku', 'about running a language model in a browser tab'],
  ['Plan a weekend', 'in Lisbon, as a Markdown list with times'],
  ['Solve 17 × 23', 'step by step, then check the answer'],
];

/** The empty conversation: a greeting and a few prompts to start with, each sent as is. */
export function welcomeView(send: (text: string) => void): HTMLElement {
  return h('div', { class: 'welcome', hidden: true },
    logoMark(),
    h('h2', {}, 'How can I help?'),
    h('p', {}, 'Runs entirely on this device’s GPU.'),
    h('div', { class: 'suggestions' }, ...SUGGESTIONS.map(([title, rest]) => h('button', {
      type: 'button', class: 'suggestion', onclick: () => send(`${title} ${rest}`),
    }, h('strong', {}, title), rest))));
}
