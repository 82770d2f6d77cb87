/** Helpers for AI ad variants (`/api/ai/variants/`). */
import type { components } from "@/api/schema";

export type Variant = components["schemas"]["AdVariant"];

export type Render = { size: string; width: number; height: number; bytes: number; url: string };

/** The API names images by absolute backend URLs; the browser loads them through our proxy. */
export function proxiedPath(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url, "http://placeholder");
    return parsed.pathname.startsWith("/api/") ? `${parsed.pathname}${parsed.search}` : null;
  } catch {
    return null;
  }
}

export const PROVIDERS: Array<[string, string]> = [
  ["template", "Template layout (no AI)"],
  ["dify", "Dify workflow (AI)"],
  ["openai", "OpenAI-compatible (AI)"],
];

export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}
