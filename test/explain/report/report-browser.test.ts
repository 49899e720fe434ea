/**
 * report.html in a real browser: Debian's Chromium, headless, driven by puppeteer-core. The page
 * is loaded from file:// with every other request blocked and recorded (it must ask for none),
 * rendered to a screenshot that is not blank, its SVG text read back, and used from the keyboard
 * only — Tab to a ladder row, Enter — until the packet's journey and anatomy are on screen. The
 * accessibility basics are checked in the page itself.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../../src/explain/report/write-report.js';
import { loadScenarioFile } from '../../../src/scenario/load.js';
import { runScenario } from '../../../src/scenario/run.js';
import { captureProblems } from '../../helpers/tshark.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`SKIPPED: the report's browser test needs Debian's chromium at ${CHROMIUM} (apt-get install -y chromium; scripts/test.sh installs it when run as root)`);

const root = mkdtempSync(join(tmpdir(), 'podwire-report-browser-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const VIEWPORT = { width: 1400, height: 900 };

/** WCAG 2 contrast ratio of two `rgb(r, g, b)` colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string): number => {
    const [r, g, bl] = (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((x) => {
      const v = Number(x) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

describe.skipIf(!haveChromium)('report.html of scenarios/cross-node-ping.yaml in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  let url: string;
  /** Every request the page made besides the report itself. */
  const outside: string[] = [];

  beforeAll(async () => {
    const dir = runScenario(loadScenarioFile('scenarios/cross-node-ping.yaml'), { out: join(root, 'run'), seed: 1 }).dir;
    expect(captureProblems(join(dir, 'all.pcapng'))).toEqual([]);
    url = pathToFileURL(writeReport(dir).file).href;
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${mkdtempSync(join(root, 'profile-'))}`],
    });
    page = await browser.newPage();
    await page.setViewport(VIEWPORT);
    // A request the page's Content-Security-Policy refuses never reaches the network layer: record those too.
    await page.evaluateOnNewDocument("window.refused = []; document.addEventListener('securitypolicyviolation', (e) => window.refused.push(e.blockedURI))");
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      if (r.url() === url) {
        void r.continue();
      } else {
        outside.push(r.url());
        void r.abort();
      }
    });
    await page.goto(url, { waitUntil: 'load' });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** Evaluates in the page (the project is type-checked without the DOM library, so page code is a string). */
  const inPage = <T>(expression: string): Promise<T> => page.evaluate(expression) as Promise<T>;

  it('asks for nothing but itself', async () => {
    expect(outside).toEqual([]);
    expect(await inPage<string[]>('window.refused')).toEqual([]);
  });

  it('renders: a screenshot with content, the topology SVG naming nodes, pods and their addresses', async () => {
    const shot = await page.screenshot({ path: join(root, 'report.png') });
    const blank = await browser.newPage();
    await blank.setViewport(VIEWPORT);
    const empty = await blank.screenshot();
    await blank.close();
    // A PNG of a white page compresses to almost nothing; the report's top screen is text and lines.
    expect(shot.length).toBeGreaterThan(10 * empty.length);
    const topo = await inPage<string>("document.querySelector('svg.topology').textContent");
    for (const text of ['node n1', 'node n2', 'pod pa', 'pod pc', '10.244.1.2/24', '10.244.2.2/24', '192.168.1.10/24', 'flannel.1 (vxlan', 'switch underlay', 'VXLAN']) expect(topo).toContain(text);
    const painted = await inPage<number>("document.querySelector('svg.topology').getBoundingClientRect().height");
    expect(painted).toBeGreaterThan(200);
  });

  it('opens a packet from the keyboard: Tab to a VXLAN row of the ladder, Enter shows its journey and anatomy', async () => {
    await inPage('document.activeElement?.blur()');
    let row: { pkt: string; href: string; label: string } | undefined;
    for (let i = 0; i < 300 && row === undefined; i++) {
      await page.keyboard.press('Tab');
      row = await inPage<{ pkt: string; href: string; label: string } | undefined>(`(() => {
        const a = document.activeElement;
        if (!a?.matches('a.hop') || !(a.getAttribute('aria-label') ?? '').includes('VXLAN')) return undefined;
        return { pkt: a.getAttribute('data-pkt'), href: a.getAttribute('href'), label: a.getAttribute('aria-label') };
      })()`);
    }
    expect(row, 'a ladder row carrying VXLAN was reached with Tab').toBeDefined();
    // The focused row is visibly marked.
    const fill = await inPage<string>("getComputedStyle(document.activeElement.querySelector('.row-bg')).fill");
    expect(fill).toBe('rgb(255, 233, 168)');
    const before = await inPage<boolean>(`document.getElementById('pkt-${row!.pkt}').open`);
    expect(before).toBe(false);
    await page.keyboard.press('Enter');
    await page.waitForFunction(`document.getElementById('pkt-${row!.pkt}')?.open === true`);
    const shown = await inPage<Record<string, string | boolean>>(`(() => {
      const packet = document.getElementById('pkt-${row!.pkt}');
      const anatomy = document.getElementById('${row!.href.slice(1)}');
      const frame = anatomy.closest('details');
      const journey = packet.querySelector('table.journey');
      const r = packet.getBoundingClientRect();
      return {
        frameOpen: frame.open,
        journeyVisible: journey.checkVisibility(),
        anatomyVisible: anatomy.querySelector('table.layer').checkVisibility(),
        onScreen: r.top < innerHeight && r.bottom > 0,
        journey: journey.innerText,
        anatomy: anatomy.innerText,
        focused: document.activeElement === packet.querySelector('summary'),
      };
    })()`);
    expect(shown).toMatchObject({ frameOpen: true, journeyVisible: true, anatomyVisible: true, onScreen: true, focused: true });
    expect(shown.journey).toContain('VXLAN');
    expect(shown.journey).toMatch(/ttl 64 → 63/);
    expect(shown.anatomy).toContain('VXLAN VNI 1');
    expect(shown.anatomy).toContain('Time to live');
    await page.screenshot({ path: join(root, 'report-opened.png') });
  });

  it('meets the accessibility basics: lang, one h1, labelled SVGs, alt text, table headers, focusable controls, contrast', async () => {
    const a11y = await inPage<{ svgs: number; rows: number; colours: string[][] }>(`(() => {
      const labelled = (el) => {
        const ids = (el.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean);
        const byIds = ids.length > 0 && ids.every((id) => (document.getElementById(id)?.textContent ?? '').trim() !== '');
        return byIds || (el.getAttribute('aria-label') ?? '').trim() !== '' || el.querySelector(':scope > title') !== null;
      };
      return {
        lang: document.documentElement.lang,
        h1: document.querySelectorAll('h1').length,
        svgs: document.querySelectorAll('svg').length,
        unlabelledSvgs: [...document.querySelectorAll('svg')].filter((s) => !labelled(s)).length,
        imagesWithoutAlt: document.querySelectorAll('img:not([alt])').length,
        tablesWithoutHeaders: [...document.querySelectorAll('table')].filter((t) => t.querySelector('th') === null).length,
        rows: document.querySelectorAll('a.hop').length,
        unnamedRows: [...document.querySelectorAll('a.hop')].filter((a) => !labelled(a)).length,
        notFocusable: [...document.querySelectorAll('a[href], summary, button, [onclick]')].filter((e) => e.tabIndex < 0).length,
        colours: [
          ['body', getComputedStyle(document.body).color, getComputedStyle(document.body).backgroundColor],
          ['link', getComputedStyle(document.querySelector('nav a')).color, getComputedStyle(document.body).backgroundColor],
          ['svg text', getComputedStyle(document.querySelector('svg .if-detail')).fill, 'rgb(238, 242, 251)'],
        ],
      };
    })()`);
    expect(a11y).toMatchObject({ lang: 'en', h1: 1, unlabelledSvgs: 0, imagesWithoutAlt: 0, tablesWithoutHeaders: 0, unnamedRows: 0, notFocusable: 0 });
    expect(a11y.svgs).toBeGreaterThanOrEqual(2);
    expect(a11y.rows).toBeGreaterThan(20);
    for (const [what, fg, bg] of a11y.colours) expect(contrast(fg!, bg!), `${what}: ${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
  });

  it('is the file the run folder holds (what was tested is what users open)', () => {
    expect(readFileSync(new URL(url), 'utf8')).toMatch(/^<!DOCTYPE html>/);
  });
});
