FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN useradd --create-home helpdesk && mkdir -p media && chown -R helpdesk /app
USER helpdesk

EXPOSE 8000
CMD ["sh", "-c", "piccolo migrations forwards all && python main.py"]
