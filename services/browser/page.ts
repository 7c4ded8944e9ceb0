// JOURNEY 35, 37: the HTML parsed by the WHATWG algorithm (parse5): what the page links to, what it
// needs (stylesheets, scripts, images, and the url()s inside stylesheets), and what would be painted.
import { type DefaultTreeAdapterMap, parse } from 'parse5';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

export interface Subresource {
  url: string;
  type: 'stylesheet' | 'script' | 'image';
  element: string;
}

export interface PageSummary {
  title: string;
  headings: { level: number; text: string }[];
  links: { text: string; href: string }[];
  images: { alt: string; src: string }[];
  paragraphs: string[];
  subresources: Subresource[];
}

const attr = (e: Element, name: string) => e.attrs.find((a) => a.name === name)?.value;

function text(n: Node): string {
  if (n.nodeName === '#text') return (n as DefaultTreeAdapterMap['textNode']).value;
  return 'childNodes' in n ? n.childNodes.map(text).join('') : '';
}

function walk(n: Node, visit: (e: Element) => void): void {
  if ('tagName' in n) visit(n as Element);
  if ('childNodes' in n) for (const c of n.childNodes) walk(c as Node, visit);
  if (n.nodeName === 'template' && 'content' in n)
    walk((n as DefaultTreeAdapterMap['template']).content, visit);
}

export function parsePage(html: string, base: URL): PageSummary {
  const doc = parse(html);
  const out: PageSummary = {
    title: '',
    headings: [],
    links: [],
    images: [],
    paragraphs: [],
    subresources: [],
  };
  const abs = (u: string) => {
    try {
      return new URL(u, base).href;
    } catch {
      return undefined;
    }
  };
  walk(doc, (e) => {
    const tag = e.tagName;
    if (tag === 'title' && !out.title) out.title = text(e).trim();
    else if (/^h[1-6]$/.test(tag))
      out.headings.push({ level: Number(tag[1]), text: text(e).trim().replace(/\s+/g, ' ') });
    else if (tag === 'p') out.paragraphs.push(text(e).trim().replace(/\s+/g, ' '));
    else if (tag === 'a' && attr(e, 'href')) {
      const href = abs(attr(e, 'href') as string);
      if (href) out.links.push({ text: text(e).trim().replace(/\s+/g, ' '), href });
    } else if (tag === 'img' && attr(e, 'src')) {
      const src = abs(attr(e, 'src') as string);
      if (src) {
        out.images.push({ alt: attr(e, 'alt') ?? '', src });
        out.subresources.push({ url: src, type: 'image', element: '<img>' });
      }
    } else if (tag === 'link' && /(^|\s)stylesheet(\s|$)/i.test(attr(e, 'rel') ?? '') && attr(e, 'href')) {
      const href = abs(attr(e, 'href') as string);
      if (href) out.subresources.push({ url: href, type: 'stylesheet', element: '<link rel=stylesheet>' });
    } else if (tag === 'script' && attr(e, 'src')) {
      const src = abs(attr(e, 'src') as string);
      if (src) out.subresources.push({ url: src, type: 'script', element: '<script src>' });
    }
  });
  return out;
}

/** url(...) references inside a stylesheet, resolved against the stylesheet's own URL. */
export function cssUrls(css: string, base: URL): string[] {
  const out: string[] = [];
  for (const m of css.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(/url\(\s*(['"]?)([^'")]+)\1\s*\)/g)) {
    if (m[2].startsWith('data:')) continue;
    try {
      out.push(new URL(m[2], base).href);
    } catch {
      // an unparseable url() is skipped, as browsers do
    }
  }
  return [...new Set(out)];
}

/** JOURNEY 37: what would be painted, as text for the terminal. */
export function renderText(p: PageSummary): string[] {
  const lines = [`▣ ${p.title || '(no title)'}`];
  for (const h of p.headings) lines.push(`${'  '.repeat(h.level - 1)}${'#'.repeat(h.level)} ${h.text}`);
  for (const para of p.paragraphs.slice(0, 3))
    lines.push(`  ${para.length > 100 ? `${para.slice(0, 97)}…` : para}`);
  for (const l of p.links) lines.push(`  ↪ ${l.text || '(link)'} → ${l.href}`);
  if (p.images.length)
    lines.push(
      `  🖼 ${p.images.length} image(s): ${p.images.map((i) => i.alt || new URL(i.src).pathname).join(', ')}`,
    );
  return lines;
}
