import type { Metadata } from "next";

import { SharedBoardPage } from "./SharedBoardPage";

export const metadata: Metadata = { title: "Shared board" };

/** A board shared by link: read-only, no sign-in. */
export default async function Page({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return <SharedBoardPage token={token} />;
}
