// The answer renderer's parser: the Markdown models write, and input that must stay inert text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { isSafeHref, parseInline, parseMarkdown, type Block, type Inline } from '../src/embed/markdown.ts';

/** The tree as a compact string: easy to read in a failing assertion. */
function show(nodes: (Block | Inline)[]): string {
  return nodes.map((n) => {
    switch (n.t) {
      case 'text': return JSON.stringify(n.v);
      case 'code': return 'lang' in n ? `code[${n.lang}](${JSON.stringify(n.v)})` : `code(${JSON.stringify(n.v)})`;
      case 'br': return 'br';
      case 'hr': return 'hr';
      case 'link': return `link<${n.href}>(${show(n.c)})`;
      case 'h': return `h${n.level}(${show(n.c)})`;
      case 'quote': return `quote(${show(n.c)})`;
      case 'list': return `${n.ordered ? `ol${n.start}` : 'ul'}${n.tight ? '' : '-loose'}(${n.items.map((item) => `[${show(item)}]`).join(' ')})`;
      case 'table': return `table(${n.align.join(',')}|${n.head.map(show).join(',')}|${n.rows.map((r) => r.map(show).join(',')).join(';')})`;
      default: return `${n.t}(${show(n.c)})`;
    }
  }).join(' ');
}

test('blocks: paragraphs, headings, rules, quotes, fenced code', () => {
  assert.equal(show(parseMarkdown('# Title\n\nHello\nworld\n\n---\n> quoted **bold**\n\n```ts\nconst x = 1;\n  y\n```')),
    'h1("Title") p("Hello" br "world") hr quote(p("quoted " strong("bold"))) code[ts]("const x = 1;\\n  y")');
  assert.equal(show(parseMarkdown('text\n## Sub #\nafter')), 'p("text") h2("Sub") p("after")');
});

test('an unclosed fence runs to the end, as a streamed answer is cut mid-code', () => {
  assert.equal(show(parseMarkdown('Here:\n```py\nprint(1)\n')), 'p("Here:") code[py]("print(1)\\n")');
});

test('lists: tight and loose, ordered with a start, nested, lazy continuation', () => {
  assert.equal(show(parseMarkdown('- a\n- b\n  - c\n- d')), 'ul([p("a")] [p("b") ul([p("c")])] [p("d")])');
  assert.equal(show(parseMarkdown('3. one\n4. two\n\n5. three')), 'ol3-loose([p("one")] [p("two")] [p("three")])');
  assert.equal(show(parseMarkdown('- item\ncontinued\n\nafter')), 'ul([p("item" br "continued")]) p("after")');
  assert.equal(show(parseMarkdown('1. x\n- y')), 'ol1([p("x")]) ul([p("y")])');
});

test('GFM tables with alignment and escaped pipes', () => {
  assert.equal(show(parseMarkdown('| a | b | c |\n|:--|:-:|--:|\n| 1 | `x\\|y` | **3** |\n| 4 |')),
    'table(left,center,right|"a","b","c"|"1",code("x|y"),strong("3");"4",,)');
});

test('inline: code spans, emphasis, strong, strikethrough, escapes, snake_case', () => {
  assert.equal(show(parseInline('a `*b*` **c** *d* _e_ ~~f~~ \\*g\\* snake_case_name ***h***')),
    '"a " code("*b*") " " strong("c") " " em("d") " " em("e") " " del("f") " *g* snake_case_name " strong(em("h"))');
  assert.equal(show(parseInline('*a **b** c*')), 'em("a " strong("b") " c")');
  assert.equal(show(parseInline('2 * 3 * 4 and a*')), '"2 * 3 * 4 and a*"');
});

test('links: inline, autolinks and bare URLs; images become links', () => {
  assert.equal(show(parseInline('[docs](https://example.com/a_(b)) <https://x.org> see https://y.org/p.')),
    'link<https://example.com/a_(b)>("docs") " " link<https://x.org>("https://x.org") " see " link<https://y.org/p>("https://y.org/p") "."');
  assert.equal(show(parseInline('![a cat](https://img.example/cat.png)')), 'link<https://img.example/cat.png>("a cat")');
});

test('unsafe links lose their target; raw HTML stays text', () => {
  for (const href of ['javascript:alert(1)', 'JaVa\tScRiPt:alert(1)', 'data:text/html,<script>', 'vbscript:x', 'file:///etc/passwd', '/relative', '//evil.example']) {
    assert.equal(isSafeHref(href), false, href);
    assert.equal(show(parseInline(`[click](${href.replace(/\s/g, '')})`)).includes('link<'), false, href);
  }
  assert.equal(show(parseInline('<img src=x onerror=alert(1)> <script>alert(1)</script>')), '"<img src=x onerror=alert(1)> <script>alert(1)</script>"');
  assert.equal(show(parseMarkdown('<div onclick="x">hi</div>')), 'p("<div onclick=\\"x\\">hi</div>")');
});

test('the UI never writes markup: no innerHTML, outerHTML or insertAdjacentHTML in src/embed', () => {
  const dir = new URL('../src/embed/', import.meta.url);
  for (const file of readdirSync(dir)) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    assert.doesNotMatch(text, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/, file);
  }
});
