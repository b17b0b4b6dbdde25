// chart.js — a bar chart as SVG built with DOM calls (no library, no inline style: colours
// come from the stylesheet's classes, so both themes apply).

import {svg} from './dom.js';

// Bucket times (ISO strings) into n bars between the first and the last; returns
// [{start: ms, end: ms, count}].
export function bucket(times, n) {
  const ts = times.map((t) => Date.parse(t)).filter((t) => !Number.isNaN(t));
  if (!ts.length) return [];
  let lo = Math.min(...ts);
  let hi = Math.max(...ts);
  if (hi === lo) {
    lo -= 30000;
    hi += 30000;
  }
  const w = (hi - lo) / n;
  const out = Array.from({length: n}, (_, i) => ({start: lo + i * w, end: lo + (i + 1) * w, count: 0}));
  for (const t of ts) out[Math.min(n - 1, Math.floor((t - lo) / w))].count++;
  return out;
}

const iso = (ms) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');

// An accessible SVG bar chart of buckets (label: what is counted).
export function barChart(buckets, label) {
  const W = 600, H = 160, pad = 24;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const bw = buckets.length ? (W - pad) / buckets.length : 0;
  const total = buckets.reduce((s, b) => s + b.count, 0);
  const first = buckets.length ? iso(buckets[0].start) : '';
  const last = buckets.length ? iso(buckets[buckets.length - 1].end) : '';
  return svg('svg', {class: 'chart', viewBox: `0 0 ${W} ${H + 20}`, role: 'img',
    'aria-label': `${label}: ${total} from ${first} to ${last}, highest bar ${max}`},
  svg('line', {class: 'axis', x1: pad, y1: H, x2: W, y2: H}),
  svg('text', {class: 'tick', x: 0, y: 12}, String(max)),
  svg('text', {class: 'tick', x: 0, y: H}, '0'),
  buckets.map((b, i) => {
    const bh = Math.round((b.count / max) * (H - 10));
    return svg('rect', {class: 'bar', x: pad + i * bw + 1, y: H - bh, width: Math.max(1, bw - 2), height: bh},
      svg('title', null, `${iso(b.start)} – ${iso(b.end)}: ${b.count}`));
  }),
  svg('text', {class: 'tick', x: pad, y: H + 16}, first),
  svg('text', {class: 'tick end', x: W, y: H + 16}, last));
}
