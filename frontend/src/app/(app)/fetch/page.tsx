import type { Metadata } from "next";
import { Suspense } from "react";

import { FetchPage } from "./FetchPage";

export const metadata: Metadata = { title: "Fetch now" };

export default function Page() {
  return (
    <Suspense>
      <FetchPage />
    </Suspense>
  );
}
