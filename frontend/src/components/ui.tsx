"use client";

/** Small building blocks: form fields with their errors, status badges, progress bars, paging. */
import { useId } from "react";

import { isFinished } from "@/lib/format";

type FieldProps = {
  label: string;
  name: string;
  errors?: string[];
  hint?: string;
  children: (props: { id: string; name: string; "aria-invalid"?: true; "aria-describedby"?: string }) => React.ReactNode;
};

/** A labelled field; `errors` from the API are shown under it and linked with aria-describedby. */
export function Field({ label, name, errors, hint, children }: FieldProps) {
  const id = `${useId()}-${name}`;
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [hint ? hintId : null, errors?.length ? errorId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, name, "aria-invalid": errors?.length ? true : undefined, "aria-describedby": describedBy })}
      {hint ? <span id={hintId} className="hint">{hint}</span> : null}
      {errors?.length ? (
        <p id={errorId} className="field-error" role="alert">
          {errors.join(" ")}
        </p>
      ) : null}
    </div>
  );
}

export function FormErrors({ errors }: { errors: string[] }) {
  if (!errors.length) return null;
  return (
    <div className="alert alert-error" role="alert">
      {errors.map((e) => (
        <div key={e}>{e}</div>
      ))}
    </div>
  );
}

export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return <span className={`badge badge-${status}`} data-status={status}>{label ?? status}</span>;
}

type ProgressProps = { label: string; percent: number | null; status?: string; detail?: string };

/** An accessible progress bar (role=progressbar with its value). `percent: null` is a bar whose
 * end is not known: no value is claimed (and nothing is filled). */
export function ProgressBar({ label, percent, status, detail }: ProgressProps) {
  const value = percent === null ? null : Math.max(0, Math.min(100, Math.round(percent)));
  const words = value === null ? status ?? "in progress" : status && isFinished(status) ? `${status}, ${value}%` : `${value}%`;
  return (
    <div className="progress">
      <div className="progress-label">
        <span>{label}</span>
        <span>{detail ?? (value === null ? "" : `${value}%`)}</span>
      </div>
      <div
        className="progress-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={value ?? undefined}
        aria-valuetext={words}
      >
        <div className={`progress-fill ${status ?? ""}`} style={{ width: `${value ?? 0}%` }} />
      </div>
    </div>
  );
}

type PaginationProps = { page: number; count: number; pageSize: number; onPage: (page: number) => void };

export function Pagination({ page, count, pageSize, onPage }: PaginationProps) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  if (pages <= 1) return null;
  return (
    <nav className="pagination" aria-label="Pagination">
      <button type="button" onClick={() => onPage(page - 1)} disabled={page <= 1}>
        ← Previous
      </button>
      <span className="muted" aria-live="polite">
        Page {page} of {pages}
      </span>
      <button type="button" onClick={() => onPage(page + 1)} disabled={page >= pages}>
        Next →
      </button>
    </nav>
  );
}

export function Empty({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="empty">
      <h3>{title}</h3>
      {children}
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return <p className="muted" role="status">{label}</p>;
}
