"use client";

import "@/components/gallery.css";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";

import { CreativeCard, CreativeDetailsPanel } from "@/components/creatives";
import { EmptyState } from "@/components/EmptyState";
import { Loading, Pagination } from "@/components/ui";
import { api, type Page, withQuery } from "@/lib/api";
import { type Board, type BoardItem, boardExportUrl } from "@/lib/creatives";
import { formatDate } from "@/lib/format";
import { onGridKeyDown } from "@/lib/gridKeys";
import { useApi } from "@/lib/useApi";
import { useQueryState } from "@/lib/useQueryState";

const PAGE_SIZE = 24;

/** One board: its creatives with editable notes, rename/delete, share link, export. */
export function BoardPage({ boardId }: { boardId: string }) {
  const [params, update] = useQueryState();
  const router = useRouter();
  const page = Number(params.get("page") || 1);
  const selected = params.get("creative");
  const board = useApi<Board>(`/api/adspark/boards/${boardId}/`);
  const items = useApi<Page<BoardItem>>(withQuery(`/api/adspark/boards/${boardId}/items/`, { page, page_size: PAGE_SIZE }));
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const b = board.data;

  async function act(fn: () => Promise<unknown>, done?: string) {
    setError(null);
    try {
      await fn();
      if (done) setMessage(done);
      board.reload();
      items.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  if (board.error && !b) {
    return (
      <div className="card">
        <EmptyState title="Board not found">
          <p>{board.error}</p>
          <Link href="/boards">All boards</Link>
        </EmptyState>
      </div>
    );
  }
  return (
    <>
      <nav aria-label="Breadcrumb" className="small muted" style={{ marginBottom: ".5rem" }}>
        <Link href="/boards">Boards</Link> / {b?.name ?? "…"}
      </nav>
      {b ? <BoardHeader board={b} onSave={(body) => act(() => api(`/api/adspark/boards/${boardId}/`, { method: "PATCH", body }), "Board saved.")}
        onDelete={() => act(async () => {
          await api(`/api/adspark/boards/${boardId}/`, { method: "DELETE" });
          router.push("/boards");
        })} /> : <Loading />}
      {error ? <div className="alert alert-error" role="alert">{error}</div> : null}
      {message ? <div className="alert alert-ok" role="status">{message}</div> : null}
      {b ? (
        <section className="card" aria-labelledby="share-title" style={{ marginBottom: "1rem" }}>
          <h2 id="share-title">Share and export</h2>
          <ShareBox board={b} onShare={() => act(() => api(`/api/adspark/boards/${boardId}/share/`, { method: "POST" }), "Share link created.")}
            onRevoke={() => act(() => api(`/api/adspark/boards/${boardId}/share/`, { method: "DELETE" }), "Share link revoked.")} />
          <div className="row" style={{ marginTop: ".75rem" }}>
            <a className="button" href={boardExportUrl(boardId, "csv")} download data-testid="board-export-csv">Export CSV</a>
            <a className="button" href={boardExportUrl(boardId, "json")} download>Export JSON</a>
          </div>
        </section>
      ) : null}
      <div className={selected ? "split" : undefined}>
        <section aria-label="Saved creatives" aria-busy={items.loading}>
          {items.loading && !items.data ? <Loading /> : null}
          {items.data && !items.data.results.length ? (
            <div className="card">
              <EmptyState title="This board is empty">
                <p>Use “Save to board” on a creative to add it here.</p>
                <Link className="button" href="/creatives">Browse creatives</Link>
              </EmptyState>
            </div>
          ) : null}
          {items.data?.results.length ? (
            <div className="gallery" data-testid="board-items" onKeyDown={onGridKeyDown}>
              {items.data.results.map((item) => (
                <div key={item.id} className="board-item" data-testid="board-item">
                  <CreativeCard creative={item.creative} selected={item.creative.ad_creative_id === selected}
                    onSelect={(id) => update({ creative: id === selected ? null : id })} />
                  <NoteEditor item={item} boardId={boardId} />
                  <div>
                    <button type="button" className="link-button danger"
                      onClick={() => act(() => api(`/api/adspark/boards/${boardId}/items/${item.id}/`, { method: "DELETE" }), "Removed from the board.")}>
                      Remove<span className="visually-hidden"> {item.creative.ad_creative_id}</span>
                    </button>
                    <span className="small muted"> · saved {formatDate(item.added_at)}</span>
                  </div>
                </div>
              ))}
            </div>
          ) : null}
          {items.data ? <Pagination page={page} count={items.data.count} pageSize={PAGE_SIZE} onPage={(p) => update({ page: p })} /> : null}
        </section>
        {selected ? <CreativeDetailsPanel key={selected} creativeId={selected} onClose={() => update({ creative: null })} /> : null}
      </div>
    </>
  );
}

function BoardHeader({ board, onSave, onDelete }: {
  board: Board;
  onSave: (body: { name: string; description: string }) => void;
  onDelete: () => void;
}) {
  const [editing, setEditing] = useState(false);
  if (editing) {
    return (
      <form className="card form" style={{ marginBottom: "1rem" }} aria-label="Rename board"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          onSave({ name: String(form.get("name") ?? "").trim(), description: String(form.get("description") ?? "") });
          setEditing(false);
        }}>
        <div className="field">
          <label htmlFor="board-name">Name</label>
          <input id="board-name" name="name" defaultValue={board.name} required maxLength={120} />
        </div>
        <div className="field">
          <label htmlFor="board-description">Description</label>
          <textarea id="board-description" name="description" defaultValue={board.description} />
        </div>
        <div className="row">
          <button type="submit" className="primary">Save</button>
          <button type="button" onClick={() => setEditing(false)}>Cancel</button>
        </div>
      </form>
    );
  }
  return (
    <header className="page-header">
      <div>
        <h1>{board.name}</h1>
        <p>{board.description || `${board.item_count} saved creative${board.item_count === 1 ? "" : "s"}`}</p>
      </div>
      <div className="row">
        <button type="button" onClick={() => setEditing(true)}>Rename</button>
        <button type="button" className="danger"
          onClick={() => { if (window.confirm(`Delete the board “${board.name}”? The creatives stay in AdSpark.`)) onDelete(); }}>
          Delete board
        </button>
      </div>
    </header>
  );
}

function ShareBox({ board, onShare, onRevoke }: { board: Board; onShare: () => void; onRevoke: () => void }) {
  const [copied, setCopied] = useState(false);
  if (!board.share_url) {
    return (
      <div className="row">
        <p className="small muted" style={{ margin: 0 }}>Only you can see this board.</p>
        <button type="button" onClick={onShare}>Create a read-only link</button>
      </div>
    );
  }
  return (
    <div className="share-box">
      <label htmlFor="share-url" className="visually-hidden">Read-only link</label>
      <input id="share-url" readOnly value={board.share_url} data-testid="share-url" onFocus={(e) => e.currentTarget.select()} />
      <button type="button" onClick={async () => {
        try {
          await navigator.clipboard.writeText(board.share_url ?? "");
          setCopied(true);
        } catch {
          setCopied(false);
        }
      }}>Copy link</button>
      <button type="button" className="danger" onClick={onRevoke}>Revoke link</button>
      <span className="small" role="status">{copied ? "Copied." : ""}</span>
    </div>
  );
}

/** The note on a saved creative: saved (PATCH) when the field loses focus after a change. */
function NoteEditor({ item, boardId }: { item: BoardItem; boardId: string }) {
  const [note, setNote] = useState(item.note);
  const [saved, setSaved] = useState(item.note);
  const [status, setStatus] = useState("");
  const id = `note-${item.id}`;
  async function save() {
    if (note === saved) return;
    try {
      await api(`/api/adspark/boards/${boardId}/items/${item.id}/`, { method: "PATCH", body: { note } });
      setSaved(note);
      setStatus("Note saved.");
    } catch (err) {
      setStatus((err as Error).message);
    }
  }
  return (
    <div className="field">
      <label htmlFor={id} className="small">Note</label>
      <textarea id={id} value={note} onChange={(e) => setNote(e.target.value)} onBlur={save} placeholder="Why it is worth keeping" />
      <span className="small muted" role="status">{status}</span>
    </div>
  );
}
