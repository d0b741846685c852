/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// analyze --format html in a real browser: headless Chromium loads the page with every request but
// the page itself refused, and we check that nothing tried to load, that the SVG timeline drew a
// bar for every mm with findings and a marker for every finding, and that its screenshot has the
// colours of those bars and markers. Hostile kernel strings must stay text.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalyze } from '../../src/cli/analyze.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { CHROMIUM, skipWithoutChromium } from '../support/chromium.js';
import { REPO_ROOT } from '../support/cli.js';
import { DECOY, SLEEP, ev, file, maps, ordinaryLaunch, ordinaryMaps } from '../unit/fixtures/model-events.fixture.js';
import { testHeader, traceText } from '../unit/fixtures/trace-header.fixture.js';
import { sink } from '../support/sink.js';

const SAMPLE = join(REPO_ROOT, 'samples', 'lab.trace.jsonl');
const PAGE_URL = 'http://exetrace-report.test/';
const HOSTILE_COMM = '<script>pwn</script>';
const HOSTILE = file(0x801, 5001, '/tmp/"><img src=x onerror="window.pwned=1">\x1b[31m\u202e.bin');

async function analyze(files: string[], format: 'html' | 'json'): Promise<string> {
  const out = sink();
  const code = await runAnalyze(files, { format }, out.stream, sink().stream);
  expect(code).toBe(0);
  return out.text();
}

function hostileTrace(dir: string): string {
  const A = '0xffff888100000a00';
  const B = '0xffff888100000b00';
  const events: TraceEvent[] = [
    ...ordinaryLaunch(1_000_000_000, 100, A),
    { ...ev.mmap(1_200_000_000, 100, A, 0x10000, 0x2000, DECOY), comm: 'sleep' },
    ev.snapshot(1_300_000_000, 100, 'exe_read', SLEEP, [maps(DECOY, 0x10000, 0x12000), ...ordinaryMaps(SLEEP)]),
    ...ordinaryLaunch(2_000_000_000, 200, B, HOSTILE).map((e) => ({ ...e, comm: HOSTILE_COMM }) as TraceEvent),
    ev.snapshot(3_000_000_000, 200, 'exe_read', HOSTILE, ordinaryMaps(HOSTILE), { exeLink: `${HOSTILE.path} (deleted)`, comm: HOSTILE_COMM }),
  ];
  const header = { ...testHeader(), hostname: '<b>host</b>' };
  const path = join(dir, 'hostile.trace');
  writeFileSync(path, traceText(events, header));
  return path;
}

interface Loaded {
  page: Page;
  /** Requests for anything but the page itself, and CSP complaints (an attempted load). */
  refused: string[];
}

describe.skipIf(skipWithoutChromium())('analyze --format html in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'views-html-'));
    browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function load(html: string): Promise<Loaded> {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    const refused: string[] = [];
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      if (req.url() === PAGE_URL && req.isNavigationRequest()) void req.respond({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
      else {
        refused.push(req.url());
        void req.abort();
      }
    });
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) refused.push(`console: ${msg.text()}`);
    });
    await page.goto(PAGE_URL, { waitUntil: 'load' });
    return { page, refused };
  }

  /** Pixels of a PNG by colour, decoded by the browser itself on a blank page (no request involved). */
  async function colours(png: Uint8Array): Promise<Record<string, number>> {
    const blank = await browser.newPage();
    try {
      return await blank.evaluate(async (b64: string) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(bitmap, 0, 0);
        const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
        const counts: Record<string, number> = {};
        for (let i = 0; i < data.length; i += 4) {
          const key = `#${[data[i]!, data[i + 1]!, data[i + 2]!].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
          counts[key] = (counts[key] ?? 0) + 1;
        }
        return counts;
      }, Buffer.from(png).toString('base64'));
    } finally {
      await blank.close();
    }
  }

  it('the lab recording: no request, a bar per mm with findings, a marker per finding, and they are on screen', async () => {
    const html = await analyze([SAMPLE], 'html');
    const report = JSON.parse(await analyze([SAMPLE], 'json')) as { findings: { id: string; mmKey: string; kind: string }[] };
    const { page, refused } = await load(html);
    try {
      expect(refused).toEqual([]);
      const mmKeys = [...new Set(report.findings.map((f) => f.mmKey))].sort();
      expect(mmKeys.length).toBeGreaterThan(3);
      const svg = await page.$('.timeline svg');
      expect(svg).not.toBeNull();
      const svgBox = (await svg!.boundingBox())!;
      // One lane per mm with findings, drawn with a real size inside the SVG.
      const lanes = await page.$$eval('.timeline [data-mm]', (gs) =>
        gs.map((g) => {
          const r = g.querySelector('rect.lane')!.getBoundingClientRect();
          return { key: g.getAttribute('data-mm')!, w: r.width, h: r.height, x: r.x, y: r.y, epochs: g.querySelectorAll('rect.epoch').length };
        }),
      );
      expect(lanes.map((l) => l.key).sort()).toEqual(mmKeys);
      for (const l of lanes) {
        expect(l.w).toBeGreaterThan(0);
        expect(l.h).toBeGreaterThan(0);
        expect(l.epochs).toBeGreaterThan(0);
        expect(l.x).toBeGreaterThanOrEqual(svgBox.x);
        expect(l.x + l.w).toBeLessThanOrEqual(svgBox.x + svgBox.width + 1);
      }
      const markers = await page.$$eval('.timeline [data-finding]', (cs) =>
        cs.map((c) => {
          const r = c.getBoundingClientRect();
          return { id: c.getAttribute('data-finding')!, w: r.width, h: r.height, y: r.y + r.height / 2, mm: c.closest('[data-mm]')!.getAttribute('data-mm') };
        }),
      );
      expect(markers.map((m) => m.id).sort()).toEqual(report.findings.map((f) => f.id).sort());
      for (const m of markers) {
        expect(m.w).toBeGreaterThan(0);
        expect(m.h).toBeGreaterThan(0);
        // On its own mm's lane.
        const lane = lanes.find((l) => l.key === m.mm)!;
        expect(m.id.startsWith(`${lane.key}/`)).toBe(true);
        expect(m.y).toBeGreaterThanOrEqual(lane.y);
        expect(m.y).toBeLessThanOrEqual(lane.y + lane.h);
      }
      // Every finding is in the page with its explanation.
      expect(await page.$$eval('article.finding', (a) => a.length)).toBe(report.findings.length);

      const shot = await svg!.screenshot({ type: 'png' });
      const px = await colours(shot);
      const total = Object.values(px).reduce((a, b) => a + b, 0);
      const background = px['#ffffff'] ?? 0;
      expect(total - background).toBeGreaterThan(total * 0.03);
      // The colours of exec epochs, startup epochs, mismatch and note markers are all drawn.
      for (const c of ['#3b6fd4', '#3a9a5b', '#d7263d', '#f2b134']) expect(px[c] ?? 0, c).toBeGreaterThan(20);
    } finally {
      await page.close();
    }
  });

  it('hostile kernel strings stay text: no element, no script, no control character; several traces get one page with totals', async () => {
    const hostile = hostileTrace(dir);
    const html = await analyze([SAMPLE, hostile], 'html');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    const { page, refused } = await load(html);
    try {
      expect(refused).toEqual([]);
      const dom = await page.evaluate(() => ({
        scripts: document.querySelectorAll('script').length,
        imgs: document.querySelectorAll('img').length,
        bold: [...document.querySelectorAll('b')].map((b) => b.textContent),
        pwned: (window as unknown as { pwned?: number }).pwned ?? null,
        text: document.body.innerText,
        sections: document.querySelectorAll('section.trace').length,
        timelines: document.querySelectorAll('.timeline svg').length,
        totals: [...document.querySelectorAll('.totals tbody tr')].map((tr) => tr.firstElementChild!.textContent),
      }));
      expect(dom).toMatchObject({ scripts: 0, imgs: 0, pwned: null, sections: 2, timelines: 2 });
      expect(dom.bold).not.toContain('host');
      expect(dom.text).toContain(HOSTILE_COMM);
      expect(dom.text).toContain('<b>host</b>');
      expect(dom.text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(dom.totals).toEqual(['vm', '<b>host</b>', 'all']);
    } finally {
      await page.close();
    }
  });
});
