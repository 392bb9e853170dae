# The app as a container image: a school's own server, a cloud VM, a Hugging Face Docker Space.
#   docker build -t nameclf . && docker run -p 8501:8501 nameclf   # then open localhost:8501
# tests/test_dockerfile.py runs every step after the torch line in CI's environment, starts
# the CMD and checks /_stcore/health (no container engine there to build the image itself).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A non-root user with UID 1000, the one Hugging Face Spaces runs as; its home holds the cache
RUN useradd --create-home --uid 1000 app
# CPU-only torch in its own layer (about 190 MB, rarely changed): a code change reuses it
RUN pip install torch==2.13.0+cpu --index-url https://download.pytorch.org/whl/cpu

WORKDIR /home/app/nameclf
COPY requirements.txt ./
RUN pip install -r requirements.txt
# The app runs from its folder (nameclf/ beside streamlit_app.py), so its own
# .streamlit/config.toml is the one read; data/ must be writable for downloaded datasets
COPY --chown=app:app . ./

USER app
ENV HOME=/home/app STREAMLIT_SERVER_PORT=8501 STREAMLIT_SERVER_ADDRESS=0.0.0.0
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
CMD ["streamlit", "run", "streamlit_app.py"]
