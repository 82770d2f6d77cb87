"use client";

/** An advertiser's creatives per week by format (Recharts stacked bars), switchable between
 * "first shown" (new that week) and "active" (shown that week), plus what changed last week. */
import "./gallery.css";

import { useState } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import type { ArchivedCreative, Timeline } from "@/lib/creatives";
import { formatDate, formatNumber } from "@/lib/format";

import { CreativeMedia } from "./creatives";

const COLORS = { text: "#4f46e5", image: "#0f766e", video: "#b45309" } as const;

export type Series = "first_shown" | "active";

/** Chart rows: one per week, `{week, text, image, video}` for the chosen series. */
export function chartRows(timeline: Timeline, series: Series) {
  return timeline.weeks.map((w) => ({ week: w.week_start, ...w[series] }));
}

export function TimelineChart({ timeline }: { timeline: Timeline }) {
  const [series, setSeries] = useState<Series>("first_shown");
  const rows = chartRows(timeline, series);
  const total = rows.reduce((n, r) => n + r.text + r.image + r.video, 0);
  return (
    <section className="card" aria-labelledby="timeline-title" data-testid="timeline">
      <div className="card-title">
        <h2 id="timeline-title">Timeline</h2>
        <div className="row" role="radiogroup" aria-label="Series" style={{ gap: ".4rem" }}>
          {(
            [
              ["first_shown", "First shown per week"],
              ["active", "Active per week"],
            ] as const
          ).map(([value, label]) => (
            <button key={value} type="button" role="radio" aria-checked={series === value}
              className={series === value ? "primary" : undefined} onClick={() => setSeries(value)}>
              {label}
            </button>
          ))}
        </div>
      </div>
      <p className="small muted" style={{ marginTop: 0 }}>
        {series === "first_shown" ? "Creatives first shown each week" : "Creatives shown at some point each week"}, by format,
        over the last {rows.length} weeks ({formatNumber(total)} in all).
      </p>
      <div className="timeline-chart">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: -16 }} title={`${series === "first_shown" ? "Creatives first shown" : "Active creatives"} per week by format`}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis dataKey="week" tickFormatter={(v: string) => v.slice(5)} tick={{ fontSize: 11, fill: "var(--muted)" }} />
            <YAxis allowDecimals={false} tick={{ fontSize: 11, fill: "var(--muted)" }} />
            <Tooltip labelFormatter={(v) => `Week of ${formatDate(String(v))}`} />
            <Legend />
            <Bar dataKey="text" stackId="f" fill={COLORS.text} name="Text" isAnimationActive={false} />
            <Bar dataKey="image" stackId="f" fill={COLORS.image} name="Image" isAnimationActive={false} />
            <Bar dataKey="video" stackId="f" fill={COLORS.video} name="Video" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </section>
  );
}

function ChangeList({ title, creatives, count, empty, onOpen, testId }: {
  title: string;
  creatives: ArchivedCreative[];
  count: number;
  empty: string;
  onOpen: (id: string) => void;
  testId: string;
}) {
  return (
    <div data-testid={testId}>
      <h3>
        {title} <span className="muted">({formatNumber(count)})</span>
      </h3>
      {creatives.length ? (
        <ul className="change-list">
          {creatives.map((c) => (
            <li key={c.ad_creative_id}>
              <span className="thumb"><CreativeMedia creative={c} /></span>
              <button type="button" className="link-button mono small" onClick={() => onOpen(c.ad_creative_id)}>{c.ad_creative_id}</button>
              <span className="small muted">{c.format} · {formatDate(c.first_shown)} – {formatDate(c.last_shown)}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="small muted">{empty}</p>
      )}
      {count > creatives.length ? <p className="small muted">…and {formatNumber(count - creatives.length)} more.</p> : null}
    </div>
  );
}

/** "What changed since last week": creatives new in the newest week of data, and those that
 * stopped in the week before it. */
export function WeekChanges({ timeline, onOpen }: { timeline: Timeline; onOpen: (id: string) => void }) {
  const { changes } = timeline;
  return (
    <section className="card" aria-labelledby="changes-title" data-testid="changes">
      <h2 id="changes-title">What changed since last week</h2>
      <p className="small muted" style={{ marginTop: 0 }}>Compared with the week before {formatDate(changes.since)}.</p>
      <div className="changes">
        <ChangeList title="New" creatives={changes.new} count={changes.new_count} empty="No new creatives." onOpen={onOpen} testId="changes-new" />
        <ChangeList title="Stopped" creatives={changes.stopped} count={changes.stopped_count} empty="None stopped." onOpen={onOpen} testId="changes-stopped" />
      </div>
    </section>
  );
}
