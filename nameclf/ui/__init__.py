"""The app's Streamlit helpers: what the pages in pages/ are thin over.

The frame of every page (`page`) over the visitor's session (`state`), the sidebar (`nav`), the
server-wide caches and training slots (`cache`), starting, sharing and collecting training jobs
(`training`, `sharing`, `estimates`, `live`), and one module per page's parts. The top floor
beside `nameclf.cli`: it may import every layer below; nothing below imports it or Streamlit.
"""
