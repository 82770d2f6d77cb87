"use client";

import Link from "next/link";

import type { Advertiser } from "@/api/types";
import { Empty, Loading, Pagination } from "@/components/ui";
import { type Page, withQuery } from "@/lib/api";
import { formatDate, formatNumber } from "@/lib/format";
import { useApi } from "@/lib/useApi";
import { useQueryState } from "@/lib/useQueryState";

const PAGE_SIZE = 25;

export function AdvertisersPage() {
  const [params, update] = useQueryState();
  const page = Number(params.get("page") || 1);
  const search = params.get("search") ?? "";
  const ordering = params.get("ordering") ?? "";
  const { data, error, loading } = useApi<Page<Advertiser>>(
    withQuery("/api/adspark/advertisers/", { page, page_size: PAGE_SIZE, search, ordering }),
  );
  return (
    <>
      <header className="page-header">
        <div>
          <h1>Advertisers</h1>
          <p>{data ? `${formatNumber(data.count)} advertisers` : "Everyone whose creatives AdSpark has fetched."}</p>
        </div>
      </header>
      <div className="card">
        <div className="filters" style={{ gridTemplateColumns: "minmax(200px, 2fr) minmax(160px, 1fr)" }}>
          <div className="field">
            <label htmlFor="a-search">Name or id</label>
            <input id="a-search" type="search" defaultValue={search} placeholder="Tesla"
              onChange={(e) => update({ search: e.target.value, page: null })} />
          </div>
          <div className="field">
            <label htmlFor="a-order">Sort by</label>
            <select id="a-order" value={ordering} onChange={(e) => update({ ordering: e.target.value, page: null })}>
              <option value="">Name</option>
              <option value="-creative_count">Most creatives</option>
              <option value="-last_seen">Recently active</option>
            </select>
          </div>
        </div>
        {error ? <div className="alert alert-error" role="alert">{error}</div> : null}
        {loading && !data ? <Loading /> : null}
        {data && !data.results.length ? <Empty title="No advertisers yet"><p><Link href="/fetch">Fetch some creatives</Link> to get started.</p></Empty> : null}
        {data?.results.length ? (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Advertiser</th>
                  <th scope="col">Id</th>
                  <th scope="col">Creatives</th>
                  <th scope="col">First seen</th>
                  <th scope="col">Last seen</th>
                </tr>
              </thead>
              <tbody>
                {data.results.map((a) => (
                  <tr key={a.advertiser_id}>
                    <td><Link href={`/advertisers/${a.advertiser_id}`}>{a.name || "Unnamed advertiser"}</Link></td>
                    <td className="mono">{a.advertiser_id}</td>
                    <td>{formatNumber(a.creative_count)}</td>
                    <td>{formatDate(a.first_seen)}</td>
                    <td>{formatDate(a.last_seen)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {data ? <Pagination page={page} count={data.count} pageSize={PAGE_SIZE} onPage={(p) => update({ page: p })} /> : null}
      </div>
    </>
  );
}
