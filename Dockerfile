# One image for web (gunicorn), worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# Production's requirements only: the tests', lint's and benchmarks' packages stay out of the image.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DJANGO_DEBUG=true python manage.py collectstatic --noinput \
    && mkdir -p /app/media && useradd --system --home /app oversight && chown -R oversight /app
USER oversight
EXPOSE 8000
# Workers, threads and keep-alive: gunicorn.conf.py, which gunicorn reads from /app.
CMD ["gunicorn", "oversight.wsgi", "--bind", "0.0.0.0:8000"]
