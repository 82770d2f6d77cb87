/** Display helpers: dates, numbers, job statuses and regions. */

export function formatDate(value: string | null | undefined, withTime = false): string {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "—";
  return date.toLocaleString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    ...(withTime ? { hour: "2-digit", minute: "2-digit", timeZone: "UTC", timeZoneName: "short" } : { timeZone: "UTC" }),
  });
}

export function timeAgo(value: string | null | undefined, now: number = Date.now()): string {
  if (!value) return "—";
  const seconds = Math.round((now - new Date(value).getTime()) / 1000);
  if (Number.isNaN(seconds)) return "—";
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

export function formatNumber(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : value.toLocaleString("en-US");
}

export type JobStatus = "pending" | "running" | "succeeded" | "failed" | "cancelled";

/** A job has ended: succeeded, failed or cancelled (core.models.FINISHED_STATUSES). */
export function isFinished(status: string | undefined): boolean {
  return status === "succeeded" || status === "failed" || status === "cancelled";
}

/** Common ISO regions offered in forms; any ISO code or geo code may be typed. */
export const REGIONS: Array<[string, string]> = [
  ["", "Anywhere"],
  ["US", "United States"],
  ["GB", "United Kingdom"],
  ["CA", "Canada"],
  ["AU", "Australia"],
  ["DE", "Germany"],
  ["FR", "France"],
  ["IN", "India"],
  ["JP", "Japan"],
  ["BR", "Brazil"],
];

export const PLATFORMS = ["PLAY", "MAPS", "SEARCH", "SHOPPING", "YOUTUBE"] as const;
export const CREATIVE_FORMATS = ["text", "image", "video"] as const;
