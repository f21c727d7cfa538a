/**
 * Charts (Chart.js, only the parts used, so the bundle stays small). Every chart is drawn with its
 * data as a table beside it: the table is the accessible form, the canvas is marked as an image.
 */
import {
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  BarController,
  BarElement,
} from 'chart.js';
import { h } from './dom.js';

Chart.register(
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  CategoryScale,
  Tooltip,
  Legend,
  BarController,
  BarElement,
);

// GOV.UK colours with enough contrast on white.
const COLOURS = ['#1d70b8', '#d4351c', '#00703c', '#4c2c92', '#f47738', '#505a5f'];

interface Series {
  label: string;
  values: Array<number | null>;
}

/** A line chart of rates (percent) with a description for assistive technology; the table beside it holds the figures. */
export function lineChart(
  description: string,
  labels: string[],
  series: Series[],
  options: { kind?: 'line' | 'bar'; yTitle?: string } = {},
): HTMLElement {
  const canvas = h('canvas', { role: 'img', 'aria-label': description }, description);
  const box = h('div', { class: 'app-chart' }, canvas);
  // Draw once the canvas is in the document (Chart.js measures its container).
  requestAnimationFrame(() => {
    if (!canvas.isConnected) return;
    new Chart(canvas, {
      type: options.kind ?? 'line',
      data: {
        labels,
        datasets: series.map((s, i) => ({
          label: s.label,
          data: s.values,
          borderColor: COLOURS[i % COLOURS.length],
          backgroundColor: COLOURS[i % COLOURS.length],
          tension: 0,
          spanGaps: true,
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          tooltip: {
            callbacks: {
              label: (c) => `${c.dataset.label}: ${typeof c.parsed.y === 'number' ? c.parsed.y.toFixed(1) : '–'}%`,
            },
          },
        },
        scales: {
          y: { title: { display: !!options.yTitle, text: options.yTitle ?? '' }, ticks: { callback: (v) => `${v}%` } },
        },
      },
    });
  });
  return box;
}
