"""Streamlit helpers shared by the pages; the rest of nameclf never imports Streamlit."""
