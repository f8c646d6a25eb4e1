/**
 * A small Markdown parser for model answers: CommonMark's everyday subset plus GFM tables,
 * strikethrough and bare URLs. It produces a plain tree, never HTML, and markdown-dom.ts builds DOM
 * nodes from it with textContent and vetted attributes only, so no input can inject markup: raw
 * HTML in an answer stays visible text. Links keep only http(s) and mailto targets; images become
 * links (an answer cannot make the page fetch anything). Streaming-friendly: an unclosed code fence
 * is a code block running to the end, so a partial answer renders as it will look.
 */

export type Inline =
  | { t: 'text'; v: string }
  | { t: 'code'; v: string }
  | { t: 'em' | 'strong' | 'del'; c: Inline[] }
  | { t: 'link'; href: string; c: Inline[] }
  | { t: 'br' };

export type Align = 'left' | 'center' | 'right' | null;

export type Block =
  | { t: 'p'; c: Inline[] }
  | { t: 'h'; level: number; c: Inline[] }
  | { t: 'code'; lang: string; v: string }
  | { t: 'quote'; c: Block[] }
  | { t: 'list'; ordered: boolean; start: number; tight: boolean; items: Block[][] }
  | { t: 'hr' }
  | { t: 'table'; align: Align[]; head: Inline[][]; rows: Inline[][][] };

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?/;
const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])([ \t]+|$)/;
const TABLE_DIVIDER = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;
const BLANK = /^[ \t]*$/;

export function parseMarkdown(source: string): Block[] {
  return parseBlocks(source.replace(/\r\n?/g, '\n').split('\n'));
}

function parseBlocks(lines: string[]): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (BLANK.test(line)) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1];
      const indent = line.length - line.trimStart().length;
      const body: string[] = [];
      i++;
      while (i < lines.length && !new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}[ \\t]*$`).test(lines[i])) {
        body.push(lines[i].replace(new RegExp(`^ {0,${indent}}`), ''));
        i++;
      }
      i++; // the closing fence (or past the end)
      blocks.push({ t: 'code', lang: fence[2], v: body.join('\n') });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      blocks.push({ t: 'h', level: heading[1].length, c: parseInline(heading[2] ?? '') });
      i++;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push({ t: 'hr' });
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const body: string[] = [];
      while (i < lines.length && !BLANK.test(lines[i]) && (QUOTE.test(lines[i]) || !startsBlock(lines[i]))) body.push(lines[i++].replace(QUOTE, ''));
      blocks.push({ t: 'quote', c: parseBlocks(body) });
      continue;
    }
    if (ITEM.test(line)) {
      i = parseList(lines, i, blocks);
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && TABLE_DIVIDER.test(lines[i + 1]) && lines[i + 1].includes('-')) {
      const head = splitRow(line);
      const align = splitRow(lines[i + 1]).map(alignOf);
      const rows: Inline[][][] = [];
      i += 2;
      while (i < lines.length && !BLANK.test(lines[i]) && lines[i].includes('|')) {
        const cells = splitRow(lines[i++]);
        rows.push(head.map((_, k) => parseInline(cells[k] ?? '')));
      }
      blocks.push({ t: 'table', align: head.map((_, k) => align[k] ?? null), head: head.map((cell) => parseInline(cell)), rows });
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && !BLANK.test(lines[i]) && (para.length === 0 || !startsBlock(lines[i]))) para.push(lines[i++]);
    blocks.push({ t: 'p', c: parseInline(para.map((l) => l.trim()).join('\n')) });
  }
  return blocks;
}

/** Whether a line opens a block that interrupts a paragraph. */
function startsBlock(line: string): boolean {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line);
}

/** Parses the list starting at lines[start] into `out`; returns the index of the line after it. */
function parseList(lines: string[], start: number, out: Block[]): number {
  const first = ITEM.exec(lines[start])!;
  const ordered = /\d/.test(first[2]);
  const sameKind = (marker: string) => (ordered ? /\d/.test(marker) && marker.slice(-1) === first[2].slice(-1) : marker === first[2]);
  const items: string[][] = [];
  let tight = true;
  let contentIndent = 0;
  let i = start;
  while (i < lines.length) {
    const line = lines[i];
    const item = ITEM.exec(line);
    if (item && sameKind(item[2]) && (items.length === 0 || item[1].length < contentIndent)) {
      // Content starts after the marker and 1-4 spaces; more than 4 means indented content, so 1.
      const gap = item[3].length >= 1 && item[3].length <= 4 ? item[3].length : 1;
      contentIndent = item[1].length + item[2].length + gap;
      items.push([line.slice(Math.min(contentIndent, line.length))]);
      i++;
      continue;
    }
    const body = items[items.length - 1];
    if (BLANK.test(line)) {
      // A blank line continues the list only if what follows is indented content or the next item.
      const next = lines.slice(i + 1).find((l) => !BLANK.test(l));
      const nextItem = next === undefined ? null : ITEM.exec(next);
      const continues = next !== undefined && (indentOf(next) >= contentIndent || (nextItem !== null && sameKind(nextItem[2]) && nextItem[1].length < contentIndent));
      if (!continues) break;
      tight = false;
      body.push('');
      i++;
      continue;
    }
    if (indentOf(line) >= contentIndent) body.push(line.slice(contentIndent));
    // A lazy continuation line joins the item's paragraph; anything block-like ends the list.
    else if (body[body.length - 1] !== '' && !startsBlock(line)) body.push(line.trim());
    else break;
    i++;
  }
  out.push({ t: 'list', ordered, start: ordered ? parseInt(first[2], 10) : 1, tight, items: items.map((b) => parseBlocks(b)) });
  return i;
}

function indentOf(line: string): number {
  return line.length - line.replace(/^[ \t]+/, '').length;
}

function splitRow(line: string): string[] {
  let row = line.trim();
  if (row.startsWith('|')) row = row.slice(1);
  if (row.endsWith('|') && !row.endsWith('\\|')) row = row.slice(0, -1);
  const cells: string[] = [];
  let cell = '';
  for (let k = 0; k < row.length; k++) {
    if (row[k] === '\\' && row[k + 1] === '|') {
      cell += '|';
      k++;
    } else if (row[k] === '|') {
      cells.push(cell.trim());
      cell = '';
    } else cell += row[k];
  }
  cells.push(cell.trim());
  return cells;
}

function alignOf(cell: string): Align {
  const left = cell.startsWith(':');
  const right = cell.endsWith(':');
  return left && right ? 'center' : right ? 'right' : left ? 'left' : null;
}

const PUNCTUATION = /[!-/:-@[-`{-~]/;

/** Inline Markdown: code spans, escapes, links, autolinks, emphasis, strikethrough, line breaks. */
export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  let plain = '';
  const flush = () => {
    if (plain) out.push({ t: 'text', v: plain });
    plain = '';
  };
  const push = (node: Inline) => {
    flush();
    out.push(node);
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length && PUNCTUATION.test(text[i + 1])) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (ch === '\n') {
      plain = plain.replace(/[ \t]+$/, '').replace(/\\$/, '');
      push({ t: 'br' });
      i++;
      continue;
    }
    if (ch === '`') {
      const run = /^`+/.exec(text.slice(i))![0];
      const close = text.indexOf(run, i + run.length);
      if (close >= 0 && text[close + run.length] !== '`') {
        let code = text.slice(i + run.length, close).replace(/\n/g, ' ');
        if (/^ .*[^ ].* $/.test(code)) code = code.slice(1, -1);
        push({ t: 'code', v: code });
        i = close + run.length;
        continue;
      }
      plain += run;
      i += run.length;
      continue;
    }
    if (ch === '[' || (ch === '!' && text[i + 1] === '[')) {
      const link = parseLink(text, ch === '!' ? i + 1 : i);
      if (link) {
        const label = parseInline(link.label);
        const content = ch === '!' ? [{ t: 'text' as const, v: link.label || link.href }] : label;
        if (link.safe) push({ t: 'link', href: link.href, c: content });
        else out.push(...(flush(), content));
        i = link.end;
        continue;
      }
    }
    if (ch === '<') {
      const auto = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/i.exec(text.slice(i));
      if (auto) {
        push({ t: 'link', href: auto[1], c: [{ t: 'text', v: auto[1].replace(/^mailto:/i, '') }] });
        i += auto[0].length;
        continue;
      }
    }
    if ((ch === 'h' || ch === 'H') && !/[\w/]/.test(text[i - 1] ?? '')) {
      const bare = /^https?:\/\/[^\s<>]*[^\s<>.,:;!?'")\]}*_~]/i.exec(text.slice(i));
      if (bare) {
        push({ t: 'link', href: bare[0], c: [{ t: 'text', v: bare[0] }] });
        i += bare[0].length;
        continue;
      }
    }
    if (ch === '*' || ch === '_' || ch === '~') {
      const span = parseDelimited(text, i);
      if (span) {
        push(span.node);
        i = span.end;
        continue;
      }
    }
    plain += ch;
    i++;
  }
  flush();
  return out;
}

/** `[label](href "title")` starting at text[at] === '['; null when it is not a link. */
function parseLink(text: string, at: number): { label: string; href: string; safe: boolean; end: number } | null {
  let depth = 0;
  let close = -1;
  for (let k = at; k < text.length; k++) {
    if (text[k] === '\\') k++;
    else if (text[k] === '[') depth++;
    else if (text[k] === ']' && --depth === 0) {
      close = k;
      break;
    }
  }
  if (close < 0 || text[close + 1] !== '(') return null;
  const target = /^\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+("[^"]*"|'[^']*'))?\s*\)/.exec(text.slice(close + 1));
  if (!target) return null;
  const href = target[1].replace(/^<|>$/g, '');
  return { label: text.slice(at + 1, close), href, safe: isSafeHref(href), end: close + 1 + target[0].length };
}

/** Only web and mail links survive: javascript:, data:, vbscript:, file: and relative paths do not. */
export function isSafeHref(href: string): boolean {
  // Browsers ignore control characters and whitespace inside a scheme ("java\tscript:"), so the check does too.
  const compact = href.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  return /^(https?:\/\/[^/]|mailto:)/i.test(compact);
}

/** Emphasis (`*`/`_`), strong (`**`/`__`) or strikethrough (`~~`) opening at text[at]. */
function parseDelimited(text: string, at: number): { node: Inline; end: number } | null {
  const ch = text[at];
  const run = text.slice(at).match(ch === '*' ? /^\*+/ : ch === '_' ? /^_+/ : /^~+/)![0];
  if (ch === '~' && run.length !== 2) return null;
  const width = ch === '~' ? 2 : Math.min(run.length, 3);
  const next = text[at + width];
  // An opener is followed by non-space; `_` may not open inside a word (snake_case stays text).
  if (next === undefined || /\s/.test(next) || (ch === '_' && /\w/.test(text[at - 1] ?? ''))) return null;
  for (let k = at + width; k < text.length; k++) {
    if (text[k] === '\\') {
      k++;
      continue;
    }
    if (text[k] === '`') {
      const codeRun = /^`+/.exec(text.slice(k))![0];
      const end = text.indexOf(codeRun, k + codeRun.length);
      if (end > 0) k = end + codeRun.length - 1;
      continue;
    }
    if (text[k] !== ch) continue;
    // Only a run of exactly the opener's width closes it; other runs belong to nested spans.
    let runEnd = k;
    while (text[runEnd] === ch) runEnd++;
    const closes = runEnd - k === width && !/\s/.test(text[k - 1]) && !(ch === '_' && /\w/.test(text[runEnd] ?? ''));
    if (!closes) {
      k = runEnd - 1;
      continue;
    }
    const inner = text.slice(at + width, k);
    const c = parseInline(inner);
    const node: Inline = ch === '~' ? { t: 'del', c } : width === 1 ? { t: 'em', c } : width === 2 ? { t: 'strong', c } : { t: 'strong', c: [{ t: 'em', c }] };
    return { node, end: k + width };
  }
  return null;
}
