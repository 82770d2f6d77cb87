import type { Metadata } from "next";
import { Suspense } from "react";

import { BoardsPage } from "./BoardsPage";

export const metadata: Metadata = { title: "Boards" };

export default function Page() {
  return (
    <Suspense>
      <BoardsPage />
    </Suspense>
  );
}
