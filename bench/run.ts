/**
 * `npm run bench` runs every `bench/*.bench.ts` one after another (each in its own process, so one
 * bench's heap and threads never weigh on the next), prints their output live and writes all of it to
 * `bench/results.md`. `npm run bench -- webhook pop` runs only the named ones.
 * A bench prints its figures to stdout; the runner adds nothing but the machine it ran on.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const BENCH_DIR = resolve(import.meta.dirname);
const SUFFIX = '.bench.ts';
const RESULTS = join(BENCH_DIR, 'results.md');

function previousSections(): Map<string, string> {
  const sections = new Map<string, string>();
  if (!existsSync(RESULTS)) return sections;
  const text = readFileSync(RESULTS, 'utf8');
  for (const part of text.split(/^(?=## )/m)) {
    const name = /^## (\S+)/.exec(part)?.[1];
    if (name) sections.set(name, `${part.trimEnd()}\n`);
  }
  return sections;
}

interface Outcome {
  name: string;
  code: number | null;
  seconds: number;
  output: string;
}

function discover(): string[] {
  return readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
}

function runOne(name: string): Promise<Outcome> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, `${name}${SUFFIX}`)], {
    cwd: resolve(BENCH_DIR, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stdout.write(chunk);
  });
  return new Promise((done) =>
    child.on('close', (code) =>
      done({ name, code, seconds: (performance.now() - started) / 1000, output: output.trimEnd() }),
    ),
  );
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}, ${process.platform}`;
}

async function main() {
  const available = discover();
  const wanted = process.argv.slice(2).map((a) => a.replace(/\.bench(\.ts)?$/, '').replace(/^bench\//, ''));
  const unknown = wanted.filter((w) => !available.includes(w));
  if (unknown.length > 0) {
    console.error(`No such bench: ${unknown.join(', ')}. Available: ${available.join(', ')}`);
    process.exit(2);
  }
  const names = wanted.length > 0 ? wanted : available;
  const outcomes: Outcome[] = [];
  for (const name of names) {
    console.log(`\n=== ${name} ===`);
    outcomes.push(await runOne(name));
  }

  // Sections of benches not run this time are kept from the previous results, so running one bench
  // refreshes its figures without dropping the others'.
  const sections = previousSections();
  for (const o of outcomes) {
    sections.set(
      o.name,
      `## ${o.name}\n\n_${new Date().toISOString()} · ${machine()} · ${o.seconds.toFixed(0)} s_\n\n` +
        `${o.code === 0 ? '' : `**FAILED (exit ${o.code})**\n\n`}\`\`\`\n${o.output}\n\`\`\`\n`,
    );
  }
  const ordered = [...sections.keys()].sort().map((name) => sections.get(name));
  writeFileSync(RESULTS, `# Benchmark results\n\nWritten by \`npm run bench\`.\n\n${ordered.join('\n')}`);
  console.log(`\nWrote bench/results.md`);
  const failed = outcomes.filter((o) => o.code !== 0);
  if (failed.length > 0) {
    console.error(`Failed: ${failed.map((o) => o.name).join(', ')}`);
    process.exit(1);
  }
}

await main();
