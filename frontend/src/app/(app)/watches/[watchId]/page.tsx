import type { Metadata } from "next";
import { Suspense } from "react";

import { WatchPage } from "./WatchPage";

export const metadata: Metadata = { title: "Watch" };

export default async function Page({ params }: { params: Promise<{ watchId: string }> }) {
  const { watchId } = await params;
  return (
    <Suspense>
      <WatchPage watchId={Number(watchId)} />
    </Suspense>
  );
}
