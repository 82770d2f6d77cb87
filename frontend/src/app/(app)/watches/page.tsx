import type { Metadata } from "next";
import { Suspense } from "react";

import { WatchesPage } from "./WatchesPage";

export const metadata: Metadata = { title: "Watches" };

export default function Page() {
  return (
    <Suspense>
      <WatchesPage />
    </Suspense>
  );
}
