FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY bot bot
COPY channels channels
COPY workers workers
COPY statemachine statemachine
RUN useradd --create-home orderline
USER orderline
EXPOSE 8000
CMD ["python", "-m", "bot", "serve"]
