import type { Metadata } from "next";
import { Suspense } from "react";

import { AdvertiserPage } from "./AdvertiserPage";

export const metadata: Metadata = { title: "Advertiser" };

export default async function Page({ params }: { params: Promise<{ advertiserId: string }> }) {
  const { advertiserId } = await params;
  return (
    <Suspense>
      <AdvertiserPage advertiserId={advertiserId} />
    </Suspense>
  );
}
