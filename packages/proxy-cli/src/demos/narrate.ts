import type { CommandContext } from '../context.js';

/** A demo's title line and what it is about to show, on stdout (the demo's output is its story). */
export function heading(ctx: CommandContext, title: string, lines: readonly string[]): void {
  const { color } = ctx.output;
  ctx.output.data(`\n${color.bold.cyan(`── ${title} ──`)}`);
  for (const line of lines) ctx.output.data(color.dim(line));
}

export function say(ctx: CommandContext, line: string): void {
  ctx.output.data(line);
}
