import type { Metadata } from "next";
import { Suspense } from "react";

import { VariantsPage } from "./VariantsPage";

export const metadata: Metadata = { title: "Variants" };

export default function Page() {
  return (
    <Suspense>
      <VariantsPage />
    </Suspense>
  );
}
