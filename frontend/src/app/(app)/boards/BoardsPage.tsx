"use client";

import "@/components/gallery.css";

import Link from "next/link";
import { useState } from "react";

import { createBoard } from "@/components/boards";
import { Empty, Field, FormErrors, Loading } from "@/components/ui";
import { type ApiError, type FieldErrors, type Page } from "@/lib/api";
import { type Board, mediaPath } from "@/lib/creatives";
import { formatDate, formatNumber } from "@/lib/format";
import { useApi } from "@/lib/useApi";

/** The caller's boards (swipe files): create one, open one. Rename/delete are on the board page. */
export function BoardsPage() {
  const { data, error, loading, reload } = useApi<Page<Board>>("/api/adspark/boards/?page_size=100");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formErrors, setFormErrors] = useState<string[]>([]);

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    setErrors({});
    setFormErrors([]);
    try {
      await createBoard(String(form.get("name") ?? "").trim(), String(form.get("description") ?? ""));
      formEl.reset();
      reload();
    } catch (err) {
      const e = err as ApiError;
      setErrors(e.fieldErrors ?? {});
      setFormErrors(e.formErrors ? e.formErrors(["name", "description"]).filter((m) => !m.startsWith("Please correct")) : [String(err)]);
    }
  }

  return (
    <>
      <header className="page-header">
        <div>
          <h1>Boards</h1>
          <p>Swipe files: save creatives worth keeping, add notes, share a board by link.</p>
        </div>
      </header>
      <div className="grid grid-2" style={{ alignItems: "start" }}>
        <section className="card" aria-labelledby="new-board-title">
          <h2 id="new-board-title">New board</h2>
          <FormErrors errors={formErrors} />
          <form className="form" onSubmit={submit} noValidate>
            <Field label="Name" name="name" errors={errors.name}>
              {(p) => <input {...p} type="text" required maxLength={120} placeholder="EV competitors, spring" />}
            </Field>
            <Field label="Description (optional)" name="description" errors={errors.description}>
              {(p) => <textarea {...p} placeholder="What this board collects" />}
            </Field>
            <div><button type="submit" className="primary">Create board</button></div>
          </form>
        </section>
        <section aria-labelledby="boards-title">
          <h2 id="boards-title" className="visually-hidden">Your boards</h2>
          {error ? <div className="alert alert-error" role="alert">{error}</div> : null}
          {loading && !data ? <Loading /> : null}
          {data && !data.results.length ? (
            <div className="card">
              <Empty title="No boards yet">
                <p>Create one here, or use “Save to board” on any creative.</p>
              </Empty>
            </div>
          ) : null}
          {data?.results.length ? (
            <ul className="board-grid" style={{ listStyle: "none", margin: 0, padding: 0 }} data-testid="board-list">
              {data.results.map((b) => (
                <li key={b.id} className="card board-card">
                  <div className="board-covers" aria-hidden="true">
                    {b.cover_thumbnails.slice(0, 4).map((src) => (
                      // eslint-disable-next-line @next/next/no-img-element -- archived thumbnails from media storage
                      <img key={src} src={mediaPath(src) ?? src} alt="" loading="lazy" />
                    ))}
                  </div>
                  <h3 style={{ margin: 0 }}>
                    <Link href={`/boards/${b.id}`}>{b.name}</Link>
                  </h3>
                  {b.description ? <p className="small muted" style={{ margin: 0 }}>{b.description}</p> : null}
                  <p className="small muted" style={{ margin: 0 }}>
                    {formatNumber(b.item_count)} creative{b.item_count === 1 ? "" : "s"} · updated {formatDate(b.updated_at)}
                    {b.share_url ? " · shared" : ""}
                  </p>
                </li>
              ))}
            </ul>
          ) : null}
        </section>
      </div>
    </>
  );
}
