/**
 * Pop latency (issue 4, item 7): how long from a voice webhook reaching callerpop to the pop being on an
 * agent's screen, measured in Chromium over the real stack: the Node server as `npm start` wires it
 * (@hono/node-server, the in-process hub, WebSocket push), a libSQL file, the console page rendering
 * the card. Next to it, the webhook's own latency (request sent → TwiML back) from the same start time.
 *
 * The page itself sends each signed webhook (pre-signed in Node with the twilio package), so the start
 * time and the moment the card is rendered are read from one clock (the page's performance.now()).
 * Calls go one after another, each from a number shared by two accounts, each a new CallSid.
 * Env: BENCH_POPS (default 300), BENCH_POP_WARMUP (default 20).
 */
import type { Page } from 'playwright-core';
import { type AgentServer, seedSharedNumber, startAgentServer } from '../test/support/agent-server.js';
import { launchChromium } from '../test/support/chromium.js';
import { formBody, signForm, voiceParams } from '../test/support/twilio-sign.js';

const POPS = Number(process.env.BENCH_POPS ?? 300);
const WARMUP = Number(process.env.BENCH_POP_WARMUP ?? 20);

interface Sample {
  webhookMs: number;
  popMs: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] as number;
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(1).padStart(7);
  return `p50 ${f(percentile(sorted, 50))} ms   p95 ${f(percentile(sorted, 95))} ms   p99 ${f(percentile(sorted, 99))} ms   max ${f(sorted.at(-1) ?? Number.NaN)} ms`;
}

/** One call: the page posts the signed webhook and waits until the card for that CallSid is rendered. */
async function oneCall(s: AgentServer, page: Page): Promise<Sample> {
  const params = voiceParams('+14155550123');
  const sid = params.CallSid as string;
  const request = {
    body: formBody(params),
    signature: signForm(`${s.url}/twilio/voice`, params),
    sid,
  };
  return page.evaluate(async ({ body, signature, sid }) => {
    type Rendered = { sid: string; t: number };
    const state = (window as unknown as { __callerpop: { rendered: Rendered[] } }).__callerpop;
    const t0 = performance.now();
    const response = fetch('/twilio/voice', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body,
    }).then(async (res) => {
      await res.text();
      if (!res.ok) throw new Error(`webhook answered ${res.status}`);
      return performance.now();
    });
    const rendered = new Promise<number>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`no pop for ${sid}`)), 10_000);
      const poll = () => {
        const hit = state.rendered.find((r) => r.sid === sid);
        if (hit) {
          clearTimeout(deadline);
          resolve(hit.t);
        } else requestAnimationFrame(poll);
      };
      poll();
    });
    const [answered, shown] = await Promise.all([response, rendered]);
    return { webhookMs: answered - t0, popMs: shown - t0 };
  }, request);
}

async function main() {
  const s = await startAgentServer();
  await seedSharedNumber(s.deps);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // tsx names functions with an injected `__name` helper; code handed to page.evaluate needs it too.
    await page.addInitScript('window.__name = (fn) => fn;');
    await page.goto(`${s.url}/agent/login?token=${encodeURIComponent(s.config.ADMIN_TOKEN)}`);
    await page.locator('#live-status', { hasText: 'Live' }).waitFor();

    for (let i = 0; i < WARMUP; i++) await oneCall(s, page);
    const samples: Sample[] = [];
    for (let i = 0; i < POPS; i++) samples.push(await oneCall(s, page));

    const duplicates = await page.evaluate(() => {
      const seen = new Set<string>();
      let dup = 0;
      for (const el of document.querySelectorAll('article[data-twilio-sid]')) {
        const sid = el.getAttribute('data-twilio-sid') ?? '';
        if (seen.has(sid)) dup++;
        seen.add(sid);
      }
      return dup;
    });

    console.log(`Pop latency in Chromium: ${POPS} calls (after ${WARMUP} warm-up), one at a time, loopback`);
    console.log(
      `  number shared by 2 accounts; Node ${process.versions.node}; ${s.hub.size()} agent socket(s)`,
    );
    console.log('');
    console.log(`  webhook → TwiML back     ${summary(samples.map((x) => x.webhookMs))}`);
    console.log(`  webhook → pop on screen  ${summary(samples.map((x) => x.popMs))}`);
    console.log('');
    const p95 = percentile(
      samples.map((x) => x.popMs).sort((a, b) => a - b),
      95,
    );
    console.log(`  pop on screen p95 ${p95.toFixed(1)} ms; duplicate cards: ${duplicates}`);
  } finally {
    await browser.close();
    await s.stop();
  }
}

await main();
