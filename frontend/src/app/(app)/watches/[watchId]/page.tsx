import type { Metadata } from "next";
import { cookies } from "next/headers";
import { notFound } from "next/navigation";
import { Suspense } from "react";

import { backendUrl, TOKEN_COOKIE } from "@/lib/server";

import { WatchPage } from "./WatchPage";

export const metadata: Metadata = { title: "Watch" };

/** True unless Django says 404 for this user's watch (another user's watch is a 404 as well).
 * Any other answer, or none, leaves the decision to the page itself. */
async function watchExists(watchId: string): Promise<boolean> {
  const token = (await cookies()).get(TOKEN_COOKIE)?.value;
  if (!token) return true; // the layout sends the visitor to the sign-in page
  try {
    const response = await fetch(`${backendUrl()}/api/adspark/watches/${watchId}/`, {
      headers: { authorization: `Token ${token}`, accept: "application/json" },
      cache: "no-store",
    });
    return response.status !== 404;
  } catch {
    return true;
  }
}

export default async function Page({ params }: { params: Promise<{ watchId: string }> }) {
  const { watchId } = await params;
  // A real 404 (src/app/not-found.tsx) for ids that are not numbers, unknown ids and other users' watches.
  if (!/^\d{1,18}$/.test(watchId) || !(await watchExists(watchId))) notFound();
  return (
    <Suspense>
      <WatchPage watchId={Number(watchId)} />
    </Suspense>
  );
}
