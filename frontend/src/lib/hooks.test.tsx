import { act, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { useDebouncedCallback } from "./hooks";

function Probe({ onSearch }: { onSearch: (q: string) => void }) {
  const [search, flush] = useDebouncedCallback(onSearch, 300);
  const [value, setValue] = useState("");
  return (
    <>
      <input aria-label="q" value={value} onChange={(e) => { setValue(e.target.value); search(e.target.value); }} />
      <button type="button" onClick={flush}>now</button>
    </>
  );
}

describe("useDebouncedCallback", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("calls once, 300 ms after the last keystroke, with the last value", () => {
    const onSearch = vi.fn();
    render(<Probe onSearch={onSearch} />);
    const input = screen.getByLabelText("q");
    for (const value of ["l", "lu", "lul", "lulu", "lululemon"]) {
      fireEvent.change(input, { target: { value } });
      act(() => vi.advanceTimersByTime(100));
    }
    expect(onSearch).not.toHaveBeenCalled();
    act(() => vi.advanceTimersByTime(199));
    expect(onSearch).not.toHaveBeenCalled();
    act(() => vi.advanceTimersByTime(1));
    expect(onSearch).toHaveBeenCalledTimes(1);
    expect(onSearch).toHaveBeenCalledWith("lululemon");
  });

  it("flush runs the pending call at once, and only once", () => {
    const onSearch = vi.fn();
    render(<Probe onSearch={onSearch} />);
    fireEvent.change(screen.getByLabelText("q"), { target: { value: "tesla" } });
    fireEvent.click(screen.getByText("now"));
    expect(onSearch).toHaveBeenCalledWith("tesla");
    act(() => vi.advanceTimersByTime(1000));
    expect(onSearch).toHaveBeenCalledTimes(1);
  });
});
