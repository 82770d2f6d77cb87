"use client";

/** Saving creatives to boards (swipe files): the "Save to board" popover for one creative and
 * the bulk version for a selection. Boards API: contract.md (`/api/adspark/boards/…`). */
import "./gallery.css";

import { useEffect, useId, useRef, useState } from "react";

import { api, type Page } from "@/lib/api";
import type { Board, CreativeBoard } from "@/lib/creatives";

/** The caller's boards (first 100, newest first as the API orders them). */
async function loadBoards(): Promise<Board[]> {
  const page = await api<Page<Board> | Board[]>("/api/adspark/boards/?page_size=100");
  return Array.isArray(page) ? page : page.results;
}

export async function createBoard(name: string, description = ""): Promise<Board> {
  return api<Board>("/api/adspark/boards/", { method: "POST", body: { name, description } });
}

/** A popover of checkable boards plus "new board"; closes on Escape and on a click outside. */
function Popover({ label, children, buttonClass, testId }: {
  label: React.ReactNode;
  children: (close: () => void) => React.ReactNode;
  buttonClass?: string;
  testId?: string;
}) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    function onDown(event: MouseEvent) {
      if (root.current && !root.current.contains(event.target as Node)) setOpen(false);
    }
    document.addEventListener("mousedown", onDown);
    return () => document.removeEventListener("mousedown", onDown);
  }, [open]);
  const close = () => {
    setOpen(false);
    document.getElementById(`${id}-button`)?.focus();
  };
  return (
    <div
      className="popover-root"
      ref={root}
      onKeyDown={(e) => {
        if (e.key === "Escape" && open) {
          e.preventDefault(); // the details panel's Escape handler leaves it open
          close();
        }
      }}
    >
      <button type="button" id={`${id}-button`} className={buttonClass} aria-expanded={open} aria-controls={id} onClick={() => setOpen((v) => !v)} data-testid={testId}>
        {label}
      </button>
      {open ? (
        <div className="popover card" id={id} role="group" aria-label="Boards">
          {children(close)}
        </div>
      ) : null}
    </div>
  );
}

function NewBoardForm({ onCreated }: { onCreated: (board: Board) => void }) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  async function submit(event: React.FormEvent) {
    event.preventDefault();
    event.stopPropagation();
    setError(null);
    try {
      const board = await createBoard(name.trim());
      setName("");
      onCreated(board);
    } catch (err) {
      setError((err as Error & { fieldErrors?: Record<string, string[]> }).fieldErrors?.name?.join(" ") ?? (err as Error).message);
    }
  }
  return (
    <form className="new-board" onSubmit={submit}>
      <label htmlFor={inputId} className="small">New board</label>
      <div className="row" style={{ gap: ".4rem", flexWrap: "nowrap" }}>
        <input id={inputId} value={name} onChange={(e) => setName(e.target.value)} placeholder="Spring campaigns" maxLength={120} />
        <button type="submit" disabled={!name.trim()}>Create</button>
      </div>
      {error ? <p className="field-error" role="alert">{error}</p> : null}
    </form>
  );
}

/** "Save to board" for one creative: shows which boards hold it (`GET /creatives/{id}/boards/`),
 * and checking/unchecking a board saves/removes it there. */
export function SaveToBoard({ creativeId }: { creativeId: string }) {
  const [boards, setBoards] = useState<Board[] | null>(null);
  const [saved, setSaved] = useState<CreativeBoard[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState("");

  useEffect(() => {
    let live = true;
    api<CreativeBoard[]>(`/api/adspark/creatives/${creativeId}/boards/`)
      .then((s) => live && setSaved(s))
      .catch(() => live && setSaved([]));
    return () => {
      live = false;
    };
  }, [creativeId]);

  async function ensureBoards() {
    if (boards) return;
    try {
      setBoards(await loadBoards());
    } catch (err) {
      setError((err as Error).message);
    }
  }

  // Optimistic: the checkbox follows the click at once and reverts if the API refuses.
  async function toggle(board: Board) {
    setError(null);
    const held = saved?.find((s) => s.id === board.id);
    if (held && held.item_id < 0) return; // still being saved
    try {
      if (held) {
        setSaved((s) => (s ?? []).filter((x) => x.id !== board.id));
        await api(`/api/adspark/boards/${board.id}/items/${held.item_id}/`, { method: "DELETE" }).catch((err) => {
          setSaved((s) => [...(s ?? []), held]);
          throw err;
        });
        setStatus(`Removed from ${board.name}.`);
      } else {
        setSaved((s) => [...(s ?? []), { id: board.id, name: board.name, item_id: -1 }]);
        const item = await api<{ id: number }>(`/api/adspark/boards/${board.id}/items/`, { method: "POST", body: { creative_id: creativeId } }).catch(
          (err) => {
            setSaved((s) => (s ?? []).filter((x) => x.id !== board.id));
            throw err;
          },
        );
        setSaved((s) => (s ?? []).map((x) => (x.id === board.id ? { ...x, item_id: item.id } : x)));
        setStatus(`Saved to ${board.name}.`);
      }
    } catch (err) {
      setError((err as Error).message);
    }
  }

  const count = saved?.length ?? 0;
  return (
    <div onFocus={ensureBoards} onMouseEnter={ensureBoards}>
      <Popover
        testId="save-to-board"
        buttonClass={count ? "saved" : undefined}
        label={count ? `Saved · ${count} board${count > 1 ? "s" : ""}` : "Save to board"}
      >
        {() => (
          <div className="stack" style={{ gap: ".5rem" }}>
            {!boards && !error ? <p className="small muted">Loading boards…</p> : null}
            {boards && !boards.length ? <p className="small muted">No boards yet: create one.</p> : null}
            {boards?.length ? (
              <ul className="board-choices">
                {boards.map((b) => (
                  <li key={b.id}>
                    <label className="checkbox">
                      <input type="checkbox" checked={Boolean(saved?.some((s) => s.id === b.id))} onChange={() => toggle(b)} />
                      {b.name}
                    </label>
                  </li>
                ))}
              </ul>
            ) : null}
            <NewBoardForm
              onCreated={(board) => {
                setBoards((bs) => [board, ...(bs ?? [])]);
                void toggle(board);
              }}
            />
            {error ? <p className="field-error" role="alert">{error}</p> : null}
            <p className="small muted" role="status">{status}</p>
          </div>
        )}
      </Popover>
    </div>
  );
}

/** Save many creatives at once (`POST /boards/{id}/items/bulk/`). */
export function BulkSaveToBoard({ creativeIds }: { creativeIds: string[] }) {
  const [boards, setBoards] = useState<Board[] | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  async function ensureBoards() {
    if (!boards) setBoards(await loadBoards().catch(() => []));
  }

  async function save(board: Board, close: () => void) {
    try {
      const result = await api<{ added: number; already_saved: number }>(`/api/adspark/boards/${board.id}/items/bulk/`, {
        method: "POST",
        body: { creative_ids: creativeIds },
      });
      setMessage({ ok: true, text: `Saved ${result.added} to ${board.name}${result.already_saved ? ` (${result.already_saved} already there)` : ""}.` });
      close();
    } catch (err) {
      setMessage({ ok: false, text: (err as Error).message });
    }
  }

  return (
    <div onFocus={ensureBoards} onMouseEnter={ensureBoards} className="row" style={{ gap: ".5rem" }}>
      <Popover label={`Save ${creativeIds.length} to board`} testId="bulk-save">
        {(close) => (
          <div className="stack" style={{ gap: ".5rem" }}>
            {boards?.length ? (
              <ul className="board-choices">
                {boards.map((b) => (
                  <li key={b.id}>
                    <button type="button" className="link-button" onClick={() => save(b, close)}>{b.name}</button>
                  </li>
                ))}
              </ul>
            ) : boards ? <p className="small muted">No boards yet: create one.</p> : <p className="small muted">Loading boards…</p>}
            <NewBoardForm
              onCreated={(board) => {
                setBoards((bs) => [board, ...(bs ?? [])]);
                void save(board, close);
              }}
            />
          </div>
        )}
      </Popover>
      {message ? <span className={`small ${message.ok ? "" : "field-error"}`} role="status">{message.text}</span> : null}
    </div>
  );
}
