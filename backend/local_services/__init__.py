"""Local servers that speak external APIs (SerpApi, later Dify/OpenAI) for tests, the offline demo and benchmarks."""
