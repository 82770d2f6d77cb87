/**
 * Creatives as the issue-13 API returns them (archive fields, look-alike counts), boards, the
 * timeline, and the helpers every page that shows a creative shares: which image to show,
 * region names, export links.
 */
import type { Creative } from "@/api/types";

import { withQuery } from "./api";

/** Fields the creative archive adds to `CreativeSerializer` (contract.md, helper a13). Optional
 * until the generated schema has them. */
export type ArchiveFields = {
  archived_image_url?: string | null;
  archived_thumbnail_url?: string | null;
  archive_status?: "" | "pending" | "archived" | "failed" | "skipped";
  visual_hash?: string;
  duplicate_count?: number;
};

export type ArchivedCreative = Creative & ArchiveFields;

/** `GET /api/adspark/boards/` item. */
export type Board = {
  id: number;
  name: string;
  description: string;
  item_count: number;
  share_url: string | null;
  cover_thumbnails: string[];
  created_at: string;
  updated_at: string;
};

export type BoardItem = { id: number; creative: ArchivedCreative; note: string; added_at: string };

/** `GET /api/adspark/shared-boards/{token}/` (no auth). Items may be a list or a DRF page. */
export type SharedBoard = {
  name: string;
  description: string;
  owner_display: string;
  items: Array<Omit<BoardItem, "id">> | { count: number; results: Array<Omit<BoardItem, "id">> };
};

/** `GET /api/adspark/creatives/{id}/boards/`. */
export type CreativeBoard = { id: number; name: string; item_id: number };

/** `GET /api/adspark/regions/`. */
export type Region = { code: string; name: string; letters: string };

export type FormatCounts = { text: number; image: number; video: number };

/** `GET /api/adspark/advertisers/{id}/timeline/`. */
export type Timeline = {
  advertiser_id: string;
  name: string;
  weeks: Array<{ week_start: string; first_shown: FormatCounts; active: FormatCounts }>;
  changes: { since: string; new: ArchivedCreative[]; stopped: ArchivedCreative[]; new_count: number; stopped_count: number };
};

/** Media files (archived images) are served by Django under `/media/` and proxied by Next at the
 * same path, so an absolute backend URL becomes a same-origin path. Other URLs pass unchanged. */
export function mediaPath(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url, "http://placeholder");
    if (parsed.pathname.startsWith("/media/")) return `${parsed.pathname}${parsed.search}`;
  } catch {
    return null;
  }
  return url;
}

type ImageFields = Pick<ArchiveFields, "archived_image_url" | "archived_thumbnail_url"> & { image_url?: string | null };

/**
 * The images to try for a creative, best first: the archived copy (thumbnail for cards, full size
 * for the details panel), then the live `image_url` on Google's ad host. An empty list means the
 * rendered placeholder; callers move to the next entry when an image fails to load.
 */
export function imageCandidates(creative: ImageFields, size: "thumbnail" | "full" = "thumbnail"): string[] {
  const archived =
    size === "full"
      ? [creative.archived_image_url, creative.archived_thumbnail_url]
      : [creative.archived_thumbnail_url, creative.archived_image_url];
  const urls = [...archived.map(mediaPath), creative.image_url || null];
  return urls.filter((u, i): u is string => Boolean(u) && urls.indexOf(u) === i);
}

/** Name of a region code (`"2840"`), ISO letters (`"US"`) or name; the input itself when unknown. */
export function regionName(value: string, regions: Region[] | null | undefined): string {
  if (!regions) return value;
  const upper = value.toUpperCase();
  const found = regions.find((r) => r.code === value || r.letters.toUpperCase() === upper);
  return found ? found.name : value;
}

/** Export link for the creatives list (`export_format` csv|json) through the Next proxy, so the
 * browser streams the download. `ids` limits it to selected creatives. */
export function creativesExportUrl(
  exportFormat: "csv" | "json",
  filters: Record<string, string>,
  ids: string[] = [],
): string {
  return withQuery("/api/adspark/creatives/export/", { ...filters, export_format: exportFormat, ids: ids.join(",") || null });
}

export function boardExportUrl(boardId: number | string, exportFormat: "csv" | "json"): string {
  return withQuery(`/api/adspark/boards/${boardId}/export/`, { export_format: exportFormat });
}

/** Items of a shared board whether the API pages them or not. */
export function sharedItems(board: SharedBoard): Array<Omit<BoardItem, "id">> {
  return Array.isArray(board.items) ? board.items : board.items.results;
}
