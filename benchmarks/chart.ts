// chart.ts draws a benchmark report as an SVG bar chart: one group of bars
// per workload, one bar per runner, each the runner's median relative to
// native on a log axis (1× to a few hundred × on this machine). The output
// depends on the report alone, so the same JSON always gives the same file.
//
// Usage: node dist/benchmarks/chart.js [REPORT.json [OUT.svg]]
//        (defaults: benchmarks/results/latest.json, latest.svg beside it)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** ResultRow is one workload under one runner, as benchmarks/run.ts writes it. */
export interface ResultRow {
  workload: string;
  runner: string;
  unit: string;
  median: number | null;
  min: number | null;
  max: number | null;
  runs: number[];
  /** note says why a row has no numbers: "not installed", "hangs: …", "failed: …". */
  note?: string;
}

/** Report is the whole of benchmarks/results/latest.json. */
export interface Report {
  machine: { cpu: string; cores: number; kernel: string; os: string; kvm: string; node: string };
  date: string;
  results: ResultRow[];
}

/** BASELINE is the runner every bar is divided by. */
const BASELINE = 'native';

/** RUNNER_COLORS gives the known runners fixed colours: blues for kvm, oranges for ptrace. */
const RUNNER_COLORS: Record<string, string> = {
  kvm: '#2166ac',
  'kvm-floor': '#92c5de',
  ptrace: '#d6604d',
  'ptrace-floor': '#f4a582',
  runsc: '#1b7837',
  'runsc-kvm': '#762a83',
};
/** OTHER_COLORS serve runners that RUNNER_COLORS does not know, in order of appearance. */
const OTHER_COLORS = ['#8c510a', '#01665e', '#c51b7d', '#4d4d4d'];

const WIDTH = 900;
const LABEL_X = 150; // right edge of the runner names
const PLOT_LEFT = 162;
const PLOT_RIGHT = WIDTH - 120; // room for the last bar's label
const BAR_HEIGHT = 16;
const BAR_GAP = 6;
const GROUP_HEAD = 24;
const GROUP_GAP = 14;
const FONT = "font-family=\"'DejaVu Sans', Verdana, Arial, sans-serif\"";
/** NOTE_CHARS bounds a failure note drawn in place of a bar. */
const NOTE_CHARS = 80;

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** formatRatio writes a ratio as the harness's table does. */
export function formatRatio(r: number): string {
  return `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

function formatValue(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

// px rounds a coordinate so that the file does not carry float noise.
function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

// shortNote turns a row's note into the few words drawn where its bar would be.
function shortNote(note: string): string {
  return note.length > NOTE_CHARS ? `${note.slice(0, NOTE_CHARS - 1)}…` : note;
}

// noteKind is the first words of a note ("failed", "hangs", "not installed"),
// for the one-line list of what is not charted.
function noteKind(note: string | undefined): string {
  return note ? note.split(':')[0]! : 'no result';
}

interface Bar {
  runner: string;
  ratio?: number;
  note?: string;
}

interface Group {
  workload: string;
  unit: string;
  baseline: number;
  bars: Bar[];
}

// groups picks the charted workloads: those with a native median, each with
// a bar or a note for every other runner, in the report's order.
function groups(report: Report): { charted: Group[]; uncharted: string[] } {
  const workloads = [...new Set(report.results.map((r) => r.workload))];
  const charted: Group[] = [];
  const uncharted: string[] = [];
  for (const w of workloads) {
    const rows = report.results.filter((r) => r.workload === w);
    const base = rows.find((r) => r.runner === BASELINE);
    const others = rows.filter((r) => r.runner !== BASELINE);
    if (!base || base.median === null || base.median <= 0) {
      // Nothing to divide by: name the absolute figures instead.
      const why = !base ? 'no native counterpart' : `native ${noteKind(base.note)}`;
      const figures = others.map((r) =>
        r.median !== null ? `${r.runner} ${formatValue(r.median)} ${r.unit}` : `${r.runner} ${noteKind(r.note)}`,
      );
      uncharted.push(`${w} (${why}): ${figures.join('; ')}`);
      continue;
    }
    const bars = others.map((r): Bar =>
      r.median !== null && r.median > 0
        ? { runner: r.runner, ratio: r.median / base.median! }
        : { runner: r.runner, note: r.note ?? 'no result' },
    );
    if (bars.length) charted.push({ workload: w, unit: base.unit, baseline: base.median, bars });
  }
  return { charted, uncharted };
}

// colorsFor gives each runner with at least one bar its colour, in the
// report's order; a runner that only failed has no swatch in the legend.
function colorsFor(charted: Group[]): Map<string, string> {
  const colors = new Map<string, string>();
  let other = 0;
  for (const b of charted.flatMap((g) => g.bars)) {
    if (b.ratio === undefined || colors.has(b.runner)) continue;
    colors.set(b.runner, RUNNER_COLORS[b.runner] ?? OTHER_COLORS[other++ % OTHER_COLORS.length]!);
  }
  return colors;
}

/** chartSvg renders report as a standalone SVG document. */
export function chartSvg(report: Report): string {
  const { charted, uncharted } = groups(report);
  const colors = colorsFor(charted);
  const ratios = charted.flatMap((g) => g.bars.flatMap((b) => (b.ratio === undefined ? [] : [b.ratio])));
  // The axis runs from 1× (or just below the smallest ratio) to just past
  // the largest, and at least to 10×.
  const logLo = Math.min(0, Math.log10(Math.min(1, ...ratios)) - 0.1);
  const logHi = Math.max(1, Math.log10(Math.max(1, ...ratios)) + 0.05);
  const x = (ratio: number) => PLOT_LEFT + ((Math.log10(ratio) - logLo) / (logHi - logLo)) * (PLOT_RIGHT - PLOT_LEFT);

  const out: string[] = [];
  const text = (tx: number, ty: number, s: string, attrs = '') =>
    out.push(`<text x="${px(tx)}" y="${px(ty)}"${attrs ? ' ' + attrs : ''}>${escapeXml(s)}</text>`);

  let y = 28;
  text(20, y, 'tvisor benchmarks: time relative to native (log scale, lower is better)', 'font-size="17" font-weight="bold"');
  y += 20;
  const m = report.machine;
  text(20, y, `${m.cpu}, ${m.cores} cores, KVM: ${m.kvm}, Linux ${m.kernel}, Node ${m.node}, ${report.date.slice(0, 10)}`, 'font-size="12" fill="#555"');
  y += 22;

  // The legend: one swatch per runner, wrapping onto a second line if needed.
  let lx = 20;
  for (const [runner, color] of colors) {
    const w = 30 + runner.length * 7.5;
    if (lx + w > WIDTH - 20) {
      lx = 20;
      y += 20;
    }
    out.push(`<rect x="${px(lx)}" y="${px(y - 11)}" width="14" height="14" fill="${color}"/>`);
    text(lx + 20, y, runner, 'font-size="13"');
    lx += w;
  }
  y += 22;

  const plotTop = y;
  const plotHeight =
    charted.reduce((h, g) => h + GROUP_HEAD + g.bars.length * (BAR_HEIGHT + BAR_GAP), 0) +
    Math.max(0, charted.length - 1) * GROUP_GAP;
  const plotBottom = plotTop + plotHeight + 4;

  // Grid: a labelled line per decade and fainter ones at 2× and 5× of
  // each; the 1× line is drawn last, over the bars' edges.
  for (let d = Math.floor(logLo); d <= Math.ceil(logHi); d++) {
    for (const k of [1, 2, 5]) {
      const v = k * 10 ** d;
      const lv = Math.log10(v);
      if (lv < logLo || lv > logHi || lv === 0) continue;
      const gx = px(x(v));
      out.push(`<line x1="${gx}" y1="${px(plotTop)}" x2="${gx}" y2="${px(plotBottom)}" stroke="${k === 1 ? '#bbb' : '#e8e8e8'}" stroke-width="1"/>`);
      if (k === 1) text(x(v), plotBottom + 16, `${v}×`, 'font-size="12" text-anchor="middle" fill="#333"');
    }
  }

  for (const g of charted) {
    text(20, y + 15, g.workload, 'font-size="14" font-weight="bold"');
    text(x(1) + 6, y + 15, `native ${formatValue(g.baseline)} ${g.unit}`, 'font-size="11" fill="#666"');
    y += GROUP_HEAD;
    for (const b of g.bars) {
      const mid = y + BAR_HEIGHT / 2 + 4;
      text(LABEL_X, mid, b.runner, 'font-size="12" text-anchor="end"');
      if (b.ratio !== undefined) {
        const x0 = x(Math.min(1, b.ratio));
        const x1 = x(Math.max(1, b.ratio));
        const w = Math.max(1.5, x1 - x0);
        out.push(`<rect x="${px(x0)}" y="${px(y)}" width="${px(w)}" height="${BAR_HEIGHT}" fill="${colors.get(b.runner)}"/>`);
        text(x0 + w + 5, mid, formatRatio(b.ratio), 'font-size="12" fill="#222"');
      } else {
        text(x(1) + 6, mid, shortNote(b.note!), 'font-size="12" font-style="italic" fill="#a33"');
      }
      y += BAR_HEIGHT + BAR_GAP;
    }
    y += GROUP_GAP;
  }
  y = plotBottom;
  out.push(`<line x1="${px(x(1))}" y1="${px(plotTop)}" x2="${px(x(1))}" y2="${px(plotBottom)}" stroke="#222" stroke-width="1.5"/>`);
  text(x(1), plotBottom + 16, '1× = native', 'font-size="12" text-anchor="middle" font-weight="bold"');
  y += 40;
  for (const line of uncharted) {
    text(20, y, `Not charted: ${line}`, 'font-size="12" fill="#555"');
    y += 18;
  }
  const height = y + 4;

  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${px(height)}" viewBox="0 0 ${WIDTH} ${px(height)}" ${FONT}>\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n` +
    out.join('\n') +
    '\n</svg>\n'
  );
}

// main draws a report file into an SVG file, for charts of older results.
function main(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const input = resolve(process.argv[2] ?? join(root, 'benchmarks', 'results', 'latest.json'));
  const output = resolve(process.argv[3] ?? join(dirname(input), 'latest.svg'));
  const report = JSON.parse(readFileSync(input, 'utf8')) as Report;
  writeFileSync(output, chartSvg(report));
  process.stderr.write(`chart: wrote ${output}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
