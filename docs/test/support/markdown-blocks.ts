import { readFileSync } from 'node:fs';

/** One fenced code block of a Markdown file. */
export interface FencedBlock {
  file: string;
  /** 1-based line of the opening fence, for messages a reader can jump to. */
  line: number;
  /** First word of the info string, e.g. `sh`. */
  lang: string;
  /** The remaining words of the info string, e.g. `['runnable']`. */
  attributes: string[];
  text: string;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`]*)$/;

/** Every fenced block of `markdown`, in order; an unclosed fence runs to the end, as in CommonMark. */
export function fencedBlocks(markdown: string, file: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const lines = markdown.split('\n');
  let open: { fence: string; line: number; info: string[]; body: string[] } | undefined;
  lines.forEach((raw, index) => {
    const match = FENCE.exec(raw);
    if (!open) {
      if (!match) return;
      const fence = match[1] ?? '```';
      const info = (match[2] ?? '').trim().split(/\s+/).filter(Boolean);
      open = { fence, line: index + 1, info, body: [] };
      return;
    }
    const closes =
      match && (match[2] ?? '').trim() === '' && match[1]?.startsWith(open.fence[0] ?? '`');
    if (closes && (match[1]?.length ?? 0) >= open.fence.length) {
      blocks.push(toBlock(open, file));
      open = undefined;
      return;
    }
    open.body.push(raw);
  });
  if (open) blocks.push(toBlock(open, file));
  return blocks;
}

function toBlock(open: { line: number; info: string[]; body: string[] }, file: string) {
  const [lang = '', ...attributes] = open.info;
  return { file, line: open.line, lang, attributes, text: open.body.join('\n') };
}

export function readBlocks(path: string, label: string): FencedBlock[] {
  return fencedBlocks(readFileSync(path, 'utf8'), label);
}

const SHELLS = new Set(['sh', 'bash', 'shell', 'console']);

export function isShell(block: FencedBlock): boolean {
  return SHELLS.has(block.lang);
}

/** `sh runnable` / `bash runnable`: the doc check runs the block and requires exit 0. */
export function isRunnable(block: FencedBlock): boolean {
  return (block.lang === 'sh' || block.lang === 'bash') && block.attributes.includes('runnable');
}

/** A `text expected` block right after a runnable block: output the runnable block must show. */
export function isExpectedOutput(block: FencedBlock | undefined): block is FencedBlock {
  return block?.attributes.includes('expected') ?? false;
}
