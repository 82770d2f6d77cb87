import type { Metadata } from "next";
import { Suspense } from "react";

import { BoardPage } from "./BoardPage";

export const metadata: Metadata = { title: "Board" };

export default async function Page({ params }: { params: Promise<{ boardId: string }> }) {
  const { boardId } = await params;
  return (
    <Suspense>
      <BoardPage boardId={boardId} />
    </Suspense>
  );
}
