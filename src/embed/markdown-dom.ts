import { h, icon, type Child } from './dom.ts';
import { isSafeHref, type Block, type Inline } from './markdown.ts';

/**
 * DOM for a parsed answer. Text goes in as text nodes and the only attributes set are fixed ones
 * and link targets that passed isSafeHref again here (defence in depth: the tree may not come from
 * parseMarkdown).
 */
export function renderMarkdown(blocks: Block[]): DocumentFragment {
  const fragment = document.createDocumentFragment();
  for (const block of blocks) fragment.appendChild(renderBlock(block, false));
  return fragment;
}

function renderBlock(block: Block, tight: boolean): Node {
  switch (block.t) {
    case 'p':
      return tight ? inlineFragment(block.c) : h('p', {}, inlineFragment(block.c));
    case 'h':
      // Answers sit under the app's own headings, so their levels start lower.
      return h(`h${Math.min(block.level + 2, 6)}` as 'h3', {}, inlineFragment(block.c));
    case 'code':
      return codeBlock(block.lang, block.v);
    case 'quote':
      return h('blockquote', {}, ...block.c.map((b) => renderBlock(b, false)));
    case 'hr':
      return h('hr');
    case 'list': {
      const items = block.items.map((item) => h('li', {}, ...item.map((b) => renderBlock(b, block.tight))));
      return block.ordered ? h('ol', { start: block.start === 1 ? null : block.start }, ...items) : h('ul', {}, ...items);
    }
    case 'table': {
      const cell = (tag: 'th' | 'td', content: Inline[], k: number) => h(tag, { style: block.align[k] ? `text-align:${block.align[k]}` : null }, inlineFragment(content));
      return h('div', { class: 'table-scroll' }, h('table', {},
        h('thead', {}, h('tr', {}, ...block.head.map((c, k) => cell('th', c, k)))),
        h('tbody', {}, ...block.rows.map((row) => h('tr', {}, ...row.map((c, k) => cell('td', c, k))))),
      ));
    }
  }
}

function inlineFragment(nodes: Inline[]): DocumentFragment {
  const fragment = document.createDocumentFragment();
  for (const node of nodes) fragment.appendChild(renderInline(node));
  return fragment;
}

function renderInline(node: Inline): Node {
  switch (node.t) {
    case 'text':
      return document.createTextNode(node.v);
    case 'code':
      return h('code', {}, node.v);
    case 'br':
      return h('br');
    case 'em':
    case 'strong':
    case 'del':
      return h(node.t, {}, inlineFragment(node.c));
    case 'link':
      if (!isSafeHref(node.href)) return inlineFragment(node.c);
      return h('a', { href: node.href, target: '_blank', rel: 'noopener noreferrer nofollow' }, inlineFragment(node.c));
  }
}

function codeBlock(lang: string, code: string): HTMLElement {
  const copy = h('button', { type: 'button', class: 'code-copy', 'aria-label': 'Copy code' }, icon('copy', 15), h('span', {}, 'Copy'));
  copy.addEventListener('click', () => {
    void navigator.clipboard?.writeText(code).then(() => {
      copy.lastElementChild!.textContent = 'Copied';
      setTimeout(() => (copy.lastElementChild!.textContent = 'Copy'), 1500);
    });
  });
  const label: Child = lang ? h('span', { class: 'code-lang' }, lang) : h('span', { class: 'code-lang' }, 'code');
  return h('div', { class: 'code' }, h('div', { class: 'code-head' }, label, copy), h('pre', {}, h('code', {}, code)));
}
