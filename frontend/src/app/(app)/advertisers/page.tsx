import type { Metadata } from "next";
import { Suspense } from "react";

import { AdvertisersPage } from "./AdvertisersPage";

export const metadata: Metadata = { title: "Advertisers" };

export default function Page() {
  return (
    <Suspense>
      <AdvertisersPage />
    </Suspense>
  );
}
