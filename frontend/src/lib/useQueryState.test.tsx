import { act, renderHook } from "@testing-library/react";
import { expect, it, vi } from "vitest";

const replace = vi.fn();
vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace }),
  usePathname: () => "/search",
  useSearchParams: () => new URLSearchParams("page=2"),
}));

import { useQueryState } from "./useQueryState";

it("keeps a change the router has not shown yet when the next one comes", () => {
  const { result } = renderHook(() => useQueryState());
  act(() => {
    const [, update] = result.current;
    update({ region: "US" });
    update({ q: "tesla", page: null }); // pressed Search before the region reached the URL
  });
  expect(replace).toHaveBeenLastCalledWith("/search?region=US&q=tesla", { scroll: false });
});
