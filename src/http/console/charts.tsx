/** @jsxImportSource hono/jsx */
/**
 * Server-rendered SVG charts for the console overview (no script, no external library): a line
 * chart of decisions per second by outcome, and horizontal bar charts. Colours come from the
 * shared stylesheet's classes; every chart has a text title and description for screen readers.
 */
import type { FC } from "hono/jsx";

const WIDTH = 640;
const HEIGHT = 200;
const MARKED_POINTS = 30;
const BAR_WIDTH = 420;
const PAD = { left: 44, right: 10, top: 10, bottom: 24 };

const round = (n: number) => Math.round(n * 10) / 10;
const formatRate = (n: number) => (n >= 10 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(2));

export interface Series {
  name: string;
  points: Array<{ at: number; perSec: number }>;
}

export const RateChart: FC<{ series: Series[]; from: number; title: string; description: string }> = ({
  series,
  from,
  title,
  description,
}) => {
  const all = series.flatMap((s) => s.points);
  // The first interval's rate is drawn at its end: the axis starts at the first sample.
  const start = Math.min(from, ...all.map((p) => p.at));
  const end = Math.max(...all.map((p) => p.at));
  const max = Math.max(0.01, ...all.map((p) => p.perSec));
  const x = (at: number) =>
    round(PAD.left + ((at - start) / Math.max(end - start, 1)) * (WIDTH - PAD.left - PAD.right));
  const y = (v: number) => round(HEIGHT - PAD.bottom - (v / max) * (HEIGHT - PAD.top - PAD.bottom));
  return (
    <svg class="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby="rate-title rate-desc">
      <title id="rate-title">{title}</title>
      <desc id="rate-desc">{description}</desc>
      <line
        class="axis"
        x1={PAD.left}
        y1={HEIGHT - PAD.bottom}
        x2={WIDTH - PAD.right}
        y2={HEIGHT - PAD.bottom}
      />
      <line class="axis" x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={HEIGHT - PAD.bottom} />
      <text x={PAD.left - 4} y={PAD.top + 8} text-anchor="end">
        {formatRate(max)}/s
      </text>
      <text x={PAD.left - 4} y={HEIGHT - PAD.bottom} text-anchor="end">
        0
      </text>
      {all.length > 0 ? (
        <>
          <text x={PAD.left} y={HEIGHT - 6}>
            {new Date(start).toISOString().slice(11, 16)} UTC
          </text>
          <text x={WIDTH - PAD.right} y={HEIGHT - 6} text-anchor="end">
            {new Date(end).toISOString().slice(11, 16)} UTC
          </text>
        </>
      ) : null}
      {series
        .filter((s) => s.points.length > 0)
        .map((s) => (
          <g class={`line-${s.name}`}>
            <polyline class="line" points={s.points.map((p) => `${x(p.at)},${y(p.perSec)}`).join(" ")} />
            {/* Few samples (a young replica): mark each point, or a single one would not show. */}
            {s.points.length <= MARKED_POINTS
              ? s.points.map((p) => <circle class="point" cx={x(p.at)} cy={y(p.perSec)} r={3} />)
              : null}
          </g>
        ))}
    </svg>
  );
};

export const BarChart: FC<{ bars: Array<[string, number]>; title: string; id: string }> = ({
  bars,
  title,
  id,
}) => {
  if (bars.length === 0) return <p class="muted">None in this period.</p>;
  const rowHeight = 24;
  const labelWidth = 170;
  const height = bars.length * rowHeight + 4;
  const max = Math.max(1, ...bars.map(([, v]) => v));
  const length = (value: number) => round(((BAR_WIDTH - labelWidth - 50) * value) / max);
  return (
    <svg class="chart" viewBox={`0 0 ${BAR_WIDTH} ${height}`} role="img" aria-labelledby={`${id}-title`}>
      <title id={`${id}-title`}>
        {title}: {bars.map(([name, value]) => `${name} ${value}`).join(", ")}
      </title>
      {bars.map(([name, value], i) => (
        <>
          <text x={0} y={i * rowHeight + 16}>
            {name}
          </text>
          <rect
            class="bar"
            x={labelWidth}
            y={i * rowHeight + 4}
            height={rowHeight - 8}
            width={length(value)}
          />
          <text x={labelWidth + length(value) + 6} y={i * rowHeight + 16}>
            {value}
          </text>
        </>
      ))}
    </svg>
  );
};
