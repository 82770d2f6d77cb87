import type { Metadata } from "next";
import { Suspense } from "react";

import { CreativesPage } from "./CreativesPage";

export const metadata: Metadata = { title: "Creatives" };

export default function Page() {
  return (
    <Suspense>
      <CreativesPage />
    </Suspense>
  );
}
