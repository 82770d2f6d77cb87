import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Django's API paths end with "/": the /api/* route handler forwards them as they are.
  skipTrailingSlashRedirect: true,
  // A self-contained server for the Docker image (frontend/Dockerfile).
  output: "standalone",
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
